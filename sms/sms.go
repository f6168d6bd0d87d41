// Package sms sends Herald's text messages through a Twilio-compatible REST API:
// POST {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json, form-encoded, with HTTP
// Basic auth. BaseURL is configurable, so any provider or proxy speaking that API works.
package sms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Config configures a Client. The zero value of every optional field is documented on it.
type Config struct {
	AccountSID string // the account the messages are sent from (and the Basic auth user)
	AuthToken  string // the Basic auth password
	// From is the default sender number; a message's own From wins over it.
	From string
	// MessagingServiceSID sends through a messaging service instead of a From number when a
	// message names no From.
	MessagingServiceSID string
	// StatusCallback, when set, is the URL the provider posts delivery status updates to.
	StatusCallback string
	// BaseURL is the API root; default "https://api.twilio.com".
	BaseURL string
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
	// HTTPClient makes the requests; default a client with Timeout.
	HTTPClient *http.Client
}

// Client sends SMS. It is safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint string
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, herald.Errorf(herald.Required, "account_sid", "an account SID and auth token are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.twilio.com"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	endpoint := strings.TrimSuffix(cfg.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"
	return &Client{cfg: cfg, endpoint: endpoint}, nil
}

// message is the part of the provider's message resource Herald reads.
type message struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

// apiError is the provider's error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
}

// Send submits one message; the result's ProviderID is the message SID and Status the
// provider's status ("queued", "accepted"). A 4xx answer is a permanent SendRejected with
// the provider's error code (21211 for a bad number), except 429, which is a temporary
// SendRateLimited; 5xx answers and network failures are temporary. It makes one request:
// retrying is the caller's job.
func (c *Client) Send(ctx context.Context, m *herald.SMS) (herald.SendResult, error) {
	res := herald.SendResult{}
	if m.To == "" || m.Body == "" {
		return res, herald.PermanentError(herald.SendInvalid, "", "an SMS needs a To number and a body", nil)
	}
	form := url.Values{"To": {m.To}, "Body": {m.Body}}
	switch {
	case m.From != "":
		form.Set("From", m.From)
	case c.cfg.MessagingServiceSID != "":
		form.Set("MessagingServiceSid", c.cfg.MessagingServiceSID)
	case c.cfg.From != "":
		form.Set("From", c.cfg.From)
	default:
		return res, herald.PermanentError(herald.SendInvalid, "", "no From number or messaging service configured", nil)
	}
	if c.cfg.StatusCallback != "" {
		form.Set("StatusCallback", c.cfg.StatusCallback)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return res, herald.PermanentError(herald.SendInvalid, "", "building the request", err)
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res.Attempts = 1
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return res, transportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return res, transportError(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, statusError(resp, body)
	}
	// A 2xx means the message was taken; an unreadable body only costs its id, and treating
	// it as a failure would send the message twice on retry.
	var msg message
	_ = json.Unmarshal(body, &msg)
	res.ProviderID, res.Status = msg.SID, msg.Status
	return res, nil
}

// statusError classifies an error answer by HTTP status, keeping the provider's code.
func statusError(resp *http.Response, body []byte) *herald.SendError {
	var e apiError
	_ = json.Unmarshal(body, &e)
	code := strconv.Itoa(resp.StatusCode)
	if e.Code != 0 {
		code = strconv.Itoa(e.Code)
	}
	msg := e.Message
	if msg == "" {
		msg = "HTTP " + resp.Status
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		se := herald.TemporaryError(herald.SendRateLimited, code, msg, nil)
		se.RetryAfter = herald.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return se
	case resp.StatusCode >= 500:
		se := herald.TemporaryError(herald.SendUnavailable, code, msg, nil)
		se.RetryAfter = herald.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return se
	default:
		return herald.PermanentError(herald.SendRejected, code, msg, nil)
	}
}

func transportError(err error) *herald.SendError {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return herald.TemporaryError(herald.SendTimeout, "", "no answer in time", err)
	}
	return herald.TemporaryError(herald.SendUnavailable, "", "request failed", err)
}
