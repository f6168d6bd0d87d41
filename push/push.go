// Package push sends Herald's push notifications through an FCM HTTP v1 compatible API:
// POST {BaseURL}/v1/projects/{ProjectID}/messages:send with a Bearer access token, one
// request per device token. BaseURL is configurable for compatible gateways and tests.
package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Config configures a Client. The zero value of every optional field is documented on it.
type Config struct {
	ProjectID string // the Firebase project the app belongs to
	// AccessToken is a static OAuth2 access token, used when TokenSource is nil.
	AccessToken string
	// TokenSource returns a current access token for each request (one that refreshes a
	// service-account token, say); it wins over AccessToken.
	TokenSource func(ctx context.Context) (string, error)
	// BaseURL is the API root; default "https://fcm.googleapis.com".
	BaseURL string
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
	// HTTPClient makes the requests; default a client with Timeout.
	HTTPClient *http.Client
}

// DeliveryIDKey is the data key carrying the delivery id, as Customer.io's SDKs expect it,
// so the app can report opened and converted metrics for the delivery.
const DeliveryIDKey = "CIO-Delivery-ID"

// LinkKey is the data key carrying the notification's link for the app to open on tap.
const LinkKey = "link"

// Client sends push notifications. It is safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint string
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.ProjectID == "" {
		return nil, herald.Errorf(herald.Required, "project_id", "an FCM project id is required")
	}
	if cfg.AccessToken == "" && cfg.TokenSource == nil {
		return nil, herald.Errorf(herald.Required, "access_token", "an access token or token source is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://fcm.googleapis.com"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	endpoint := strings.TrimSuffix(cfg.BaseURL, "/") + "/v1/projects/" + url.PathEscape(cfg.ProjectID) + "/messages:send"
	return &Client{cfg: cfg, endpoint: endpoint}, nil
}

// Send sends p to each of its device tokens in turn and reports every token's outcome in
// the result's Recipients. A token FCM no longer knows (UNREGISTERED, or SENDER_ID_MISMATCH)
// fails with a permanent SendUnregistered: drop that device.
//
// The error is nil when at least one device accepted the notification, so a retry never
// repeats it on a device that has it. When none did, the error is temporary if any token
// failed temporarily (nothing was delivered, so all may be retried) and permanent otherwise.
func (c *Client) Send(ctx context.Context, p *herald.Push) (herald.SendResult, error) {
	var res herald.SendResult
	if len(p.Tokens) == 0 {
		return res, herald.PermanentError(herald.SendInvalid, "", "the person has no device tokens", nil)
	}
	body := newMessage(p)
	var temp, perm *herald.SendError
	accepted := 0
	for _, token := range p.Tokens {
		body.Message.Token = token
		res.Attempts++
		id, err := c.sendOne(ctx, body)
		r := herald.RecipientResult{To: token, ProviderID: id}
		switch {
		case err == nil:
			accepted++
			if res.ProviderID == "" {
				res.ProviderID = id
			}
		case err.Permanent:
			r.Err = err
			if perm == nil {
				perm = err
			}
		default:
			r.Err = err
			if temp == nil {
				temp = err
			}
		}
		res.Recipients = append(res.Recipients, r)
	}
	res.Status = fmt.Sprintf("%d of %d devices accepted", accepted, len(p.Tokens))
	switch {
	case accepted > 0:
		return res, nil
	case temp != nil:
		return res, temp
	default:
		return res, perm
	}
}

// sendOne posts one message and returns FCM's message name.
func (c *Client) sendOne(ctx context.Context, m request) (string, *herald.SendError) {
	token := c.cfg.AccessToken
	if c.cfg.TokenSource != nil {
		t, err := c.cfg.TokenSource(ctx)
		if err != nil {
			return "", herald.TemporaryError(herald.SendUnavailable, "", "getting an access token", err)
		}
		token = t
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return "", herald.PermanentError(herald.SendInvalid, "", "encoding the message", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(payload))
	if err != nil {
		return "", herald.PermanentError(herald.SendInvalid, "", "building the request", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", transportError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", transportError(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", statusError(resp, raw)
	}
	var ok struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(raw, &ok) // accepted either way; an unreadable body only loses the id
	return ok.Name, nil
}

func transportError(err error) *herald.SendError {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return herald.TemporaryError(herald.SendTimeout, "", "no answer in time", err)
	}
	return herald.TemporaryError(herald.SendUnavailable, "", "request failed", err)
}
