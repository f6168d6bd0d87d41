package sms_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/sms"
)

// provider is an httptest stand-in for the Twilio API that records each request and
// answers with a fixed status and body.
type provider struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	forms    []url.Values
}

func newProvider(t *testing.T, status int, body string, header http.Header) *provider {
	t.Helper()
	p := &provider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		p.mu.Lock()
		p.requests, p.forms = append(p.requests, r), append(p.forms, form)
		p.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(p.Close)
	return p
}

func newClient(t *testing.T, p *provider, mutate func(*sms.Config)) *sms.Client {
	t.Helper()
	cfg := sms.Config{AccountSID: "AC123", AuthToken: "tok", From: "+15550000000", BaseURL: p.URL}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := sms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSend(t *testing.T) {
	t.Parallel()

	t.Run("posts the exact form with Basic auth and reads sid and status", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t, http.StatusCreated, `{"sid":"SM42","status":"queued","error_code":null}`, nil)
		c := newClient(t, p, func(c *sms.Config) { c.StatusCallback = "https://herald.test/sms/status" })
		res, err := c.Send(context.Background(), &herald.SMS{To: "+15551234567", Body: "Your code is 1234 & more"})
		if err != nil {
			t.Fatal(err)
		}
		if res.ProviderID != "SM42" || res.Status != "queued" || res.Attempts != 1 {
			t.Errorf("result = %+v", res)
		}
		r := p.requests[0]
		user, pass, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" || !ok || user != "AC123" || pass != "tok" {
			t.Errorf("request %s %s auth %q:%q", r.Method, r.URL.Path, user, pass)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", ct)
		}
		want := url.Values{
			"To": {"+15551234567"}, "From": {"+15550000000"}, "Body": {"Your code is 1234 & more"},
			"StatusCallback": {"https://herald.test/sms/status"},
		}
		if got := p.forms[0]; got.Encode() != want.Encode() {
			t.Errorf("form = %v, want %v", got, want)
		}
	})

	t.Run("uses the messaging service when the message names no From", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t, http.StatusCreated, `{"sid":"SM1","status":"accepted"}`, nil)
		c := newClient(t, p, func(c *sms.Config) { c.MessagingServiceSID = "MG9" })
		if _, err := c.Send(context.Background(), &herald.SMS{To: "+15551234567", Body: "hi"}); err != nil {
			t.Fatal(err)
		}
		if f := p.forms[0]; f.Get("MessagingServiceSid") != "MG9" || f.Has("From") {
			t.Errorf("form = %v, want MessagingServiceSid and no From", f)
		}
	})

	errorCases := []struct {
		name          string
		status        int
		body          string
		header        http.Header
		wantCode      herald.SendCode
		wantProvider  string
		wantPermanent bool
		wantHint      time.Duration
	}{
		{
			name: "an invalid number is permanent with Twilio's code", status: 400,
			body:     `{"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`,
			wantCode: herald.SendRejected, wantProvider: "21211", wantPermanent: true,
		},
		{
			name: "bad credentials are permanent", status: 401,
			body:     `{"code":20003,"message":"Authenticate","status":401}`,
			wantCode: herald.SendRejected, wantProvider: "20003", wantPermanent: true,
		},
		{
			name: "too many requests is temporary with the Retry-After hint", status: 429,
			body: `{"code":20429,"message":"Too Many Requests","status":429}`, header: http.Header{"Retry-After": {"7"}},
			wantCode: herald.SendRateLimited, wantProvider: "20429", wantHint: 7 * time.Second,
		},
		{
			name: "a server error is temporary", status: 503, body: `upstream down`,
			wantCode: herald.SendUnavailable, wantProvider: "503",
		},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProvider(t, tt.status, tt.body, tt.header)
			_, err := newClient(t, p, nil).Send(context.Background(), &herald.SMS{To: "+1555", Body: "hi"})
			se := herald.AsSendError(err)
			if se == nil || se.Code != tt.wantCode || se.ProviderCode != tt.wantProvider || se.Permanent != tt.wantPermanent || se.RetryAfter != tt.wantHint {
				t.Errorf("err = %#v, want %s %s permanent=%v hint=%s", se, tt.wantCode, tt.wantProvider, tt.wantPermanent, tt.wantHint)
			}
		})
	}

	t.Run("refuses a message without a number before calling the provider", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t, http.StatusCreated, `{}`, nil)
		_, err := newClient(t, p, nil).Send(context.Background(), &herald.SMS{Body: "hi"})
		if se := herald.AsSendError(err); se == nil || se.Code != herald.SendInvalid || !se.Permanent || len(p.requests) != 0 {
			t.Errorf("err = %v after %d requests, want permanent invalid and none", err, len(p.requests))
		}
	})

	t.Run("an unreachable provider is temporary", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t, http.StatusCreated, `{}`, nil)
		c := newClient(t, p, nil)
		p.Close()
		_, err := c.Send(context.Background(), &herald.SMS{To: "+1555", Body: "hi"})
		if se := herald.AsSendError(err); se == nil || se.Permanent {
			t.Errorf("err = %v, want temporary", err)
		}
	})
}
