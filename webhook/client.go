// Package webhook sends Herald's outbound webhooks: HMAC-signed HTTP requests with a
// per-attempt timeout, retried with exponential backoff on temporary failures, and refused
// when they would reach a private, loopback or link-local address that is not allowed.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Config configures a Client. The zero value of every optional field is documented on it.
type Config struct {
	// Secret signs every request (see Sign); empty sends no signature headers.
	Secret []byte
	// Timeout bounds one attempt, connection included; default 4s (as Customer.io's).
	Timeout time.Duration
	// MaxAttempts is how many requests one Send may make; default 3.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled before each next one; default 500ms.
	Backoff time.Duration
	// MaxBackoff caps a wait, Retry-After included; a server asking for longer ends the
	// attempts with a temporary error carrying its hint. Default 10s.
	MaxBackoff time.Duration
	// AllowCIDRs lists internal ranges (private, loopback, link-local, reserved) that may
	// be sent to anyway, such as a service on the same network. Default: none.
	AllowCIDRs []netip.Prefix
	// UserAgent is sent on every request; default "Herald-Webhook/1".
	UserAgent string
	// MaxIdleConnsPerHost is how many keep-alive connections a destination keeps; default 64.
	MaxIdleConnsPerHost int
	// Now is the clock used for signature timestamps; default time.Now.
	Now func() time.Time
}

// Client sends webhooks. It is safe for concurrent use and keeps connections alive.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 4 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Herald-Webhook/1"
	}
	if cfg.MaxIdleConnsPerHost <= 0 {
		cfg.MaxIdleConnsPerHost = 64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Control: guard{allow: cfg.AllowCIDRs}.control}
	transport := &http.Transport{
		Proxy:               nil, // a proxy would hide the real destination from the guard
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        4 * cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost: cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
	}
	return &Client{cfg: cfg, http: &http.Client{
		Transport: transport,
		// A redirect is not followed: it would re-send the signed body somewhere unreviewed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Close drops the idle keep-alive connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// Send makes the request, retrying connection failures, timeouts, 408, 429 and 5xx answers
// up to MaxAttempts with exponential backoff (or the server's Retry-After). Any 2xx is
// success; other answers (3xx, 4xx) are permanent SendRejected, and a refused destination is
// permanent SendRefused. Each attempt is signed afresh with the current time.
func (c *Client) Send(ctx context.Context, w *herald.Webhook) (herald.SendResult, error) {
	method := w.Method
	if method == "" {
		method = http.MethodPost
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return herald.SendResult{}, herald.PermanentError(herald.SendInvalid, "", "webhook URL must be an absolute http(s) URL", err)
	}
	var res herald.SendResult
	wait := c.cfg.Backoff
	for {
		res.Attempts++
		status, se := c.attempt(ctx, method, u.String(), w)
		if se == nil {
			res.Status = status
			return res, nil
		}
		if se.Permanent || res.Attempts >= c.cfg.MaxAttempts || ctx.Err() != nil {
			return res, se
		}
		d := max(wait, se.RetryAfter)
		if d > c.cfg.MaxBackoff {
			if se.RetryAfter > c.cfg.MaxBackoff {
				return res, se // the caller reschedules after the server's hint
			}
			d = c.cfg.MaxBackoff
		}
		if err := sleep(ctx, d); err != nil {
			return res, se
		}
		wait *= 2
	}
}

// attempt makes one request and classifies its outcome.
func (c *Client) attempt(ctx context.Context, method, target string, w *herald.Webhook) (string, *herald.SendError) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(w.Body))
	if err != nil {
		return "", herald.PermanentError(herald.SendInvalid, "", "building the request", err)
	}
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Content-Type") == "" && len(w.Body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if w.DeliveryID != "" {
		req.Header.Set(DeliveryHeader, w.DeliveryID)
	}
	if len(c.cfg.Secret) > 0 {
		ts := strconv.FormatInt(c.cfg.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign(c.cfg.Secret, ts, w.Body))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", transportError(err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.Status, nil
	}
	return "", statusError(resp, strings.TrimSpace(string(snippet)))
}

// statusError classifies a non-2xx answer: 408, 429 and 5xx are temporary.
func statusError(resp *http.Response, body string) *herald.SendError {
	code := strconv.Itoa(resp.StatusCode)
	msg := "HTTP " + resp.Status
	if body != "" {
		msg += ": " + body
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		se := herald.TemporaryError(herald.SendRateLimited, code, msg, nil)
		se.RetryAfter = herald.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return se
	case resp.StatusCode == http.StatusRequestTimeout:
		return herald.TemporaryError(herald.SendTimeout, code, msg, nil)
	case resp.StatusCode >= 500:
		se := herald.TemporaryError(herald.SendUnavailable, code, msg, nil)
		se.RetryAfter = herald.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return se
	default:
		return herald.PermanentError(herald.SendRejected, code, msg, nil)
	}
}

// transportError classifies a failure to get an answer.
func transportError(err error) *herald.SendError {
	var refused *RefusedError
	var ne net.Error
	switch {
	case errors.As(err, &refused):
		return herald.PermanentError(herald.SendRefused, "", refused.Error(), err)
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return herald.TemporaryError(herald.SendTimeout, "", "no answer in time", err)
	default:
		return herald.TemporaryError(herald.SendUnavailable, "", "request failed", err)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
