package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/webhook"
)

var (
	secret   = []byte("whsec")
	loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
)

// receiver is an httptest server that answers with the scripted statuses in turn (200
// after the script) and records what it was sent.
type receiver struct {
	*httptest.Server
	mu        sync.Mutex
	script    []int
	header    http.Header // extra response headers
	requests  []*http.Request
	bodies    [][]byte
	verified  int // requests whose signature verified
	successes int
}

func newReceiver(t *testing.T, script ...int) *receiver {
	t.Helper()
	r := &receiver{script: script, header: http.Header{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests = append(r.requests, req)
		r.bodies = append(r.bodies, body)
		if webhook.Verify(secret, req.Header, body, time.Now(), time.Minute) == nil {
			r.verified++
		}
		status := http.StatusOK
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		if status < 300 {
			r.successes++
		}
		for k, v := range r.header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "answer "+http.StatusText(status))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func newClient(cfg webhook.Config) *webhook.Client {
	if cfg.Secret == nil {
		cfg.Secret = secret
	}
	if cfg.AllowCIDRs == nil {
		cfg.AllowCIDRs = loopback
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	return webhook.New(cfg)
}

func TestSend(t *testing.T) {
	t.Parallel()

	t.Run("sends method, headers, body and a valid signature", func(t *testing.T) {
		t.Parallel()
		r := newReceiver(t)
		c := newClient(webhook.Config{})
		res, err := c.Send(context.Background(), &herald.Webhook{
			DeliveryID: "d1", Method: http.MethodPut, URL: r.URL + "/hook?x=1",
			Headers: map[string]string{"Authorization": "Bearer abc"}, Body: []byte(`{"plan":"pro"}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Attempts != 1 || res.Status != "200 OK" {
			t.Errorf("result = %+v, want one attempt answered 200 OK", res)
		}
		req := r.requests[0]
		for got, want := range map[string]string{
			req.Method:                                      http.MethodPut,
			req.URL.String():                                "/hook?x=1",
			req.Header.Get("Authorization"):                 "Bearer abc",
			req.Header.Get("Content-Type"):                  "application/json",
			req.Header.Get(webhook.DeliveryHeader):          "d1",
			string(r.bodies[0]):                             `{"plan":"pro"}`,
			strings.Fields(req.Header.Get("User-Agent"))[0]: "Herald-Webhook/1",
		} {
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
		if r.verified != 1 {
			t.Error("signature did not verify")
		}
	})

	t.Run("retries a failing receiver until it succeeds once", func(t *testing.T) {
		t.Parallel()
		r := newReceiver(t, http.StatusServiceUnavailable, http.StatusInternalServerError)
		res, err := newClient(webhook.Config{}).Send(context.Background(), &herald.Webhook{URL: r.URL, Body: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Attempts != 3 || r.count() != 3 || r.successes != 1 || r.verified != 3 {
			t.Errorf("attempts %d, requests %d, successes %d, verified %d; want 3, 3, 1, 3",
				res.Attempts, r.count(), r.successes, r.verified)
		}
	})

	tests := []struct {
		name          string
		script        []int
		retryAfter    string
		wantRequests  int
		wantCode      herald.SendCode
		wantPermanent bool
		wantHint      time.Duration
	}{
		{name: "a 400 is permanent and not retried", script: []int{400}, wantRequests: 1, wantCode: herald.SendRejected, wantPermanent: true},
		{name: "a 404 is permanent and not retried", script: []int{404}, wantRequests: 1, wantCode: herald.SendRejected, wantPermanent: true},
		{name: "a redirect is not followed", script: []int{302}, wantRequests: 1, wantCode: herald.SendRejected, wantPermanent: true},
		{name: "a 408 is retried", script: []int{408, 408, 408}, wantRequests: 3, wantCode: herald.SendTimeout},
		{name: "persistent 5xx gives up after MaxAttempts, temporary", script: []int{502, 502, 502, 502}, wantRequests: 3, wantCode: herald.SendUnavailable},
		{
			name: "a 429 asking for longer than MaxBackoff stops with the hint", script: []int{429}, retryAfter: "120",
			wantRequests: 1, wantCode: herald.SendRateLimited, wantHint: 120 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReceiver(t, tt.script...)
			if tt.retryAfter != "" {
				r.header.Set("Retry-After", tt.retryAfter)
			}
			r.header.Set("Location", "http://elsewhere.test/")
			_, err := newClient(webhook.Config{MaxBackoff: time.Second}).Send(context.Background(), &herald.Webhook{URL: r.URL})
			se := herald.AsSendError(err)
			if se == nil || se.Code != tt.wantCode || se.Permanent != tt.wantPermanent || se.RetryAfter != tt.wantHint {
				t.Fatalf("err = %#v, want code %s permanent %v hint %s", se, tt.wantCode, tt.wantPermanent, tt.wantHint)
			}
			if got := r.count(); got != tt.wantRequests {
				t.Errorf("receiver got %d requests, want %d", got, tt.wantRequests)
			}
		})
	}

	t.Run("an attempt that outlasts Timeout is a temporary timeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		t.Cleanup(slow.Close)
		t.Cleanup(func() { close(release) })
		start := time.Now()
		_, err := newClient(webhook.Config{Timeout: 50 * time.Millisecond, MaxAttempts: 2}).Send(context.Background(), &herald.Webhook{URL: slow.URL})
		se := herald.AsSendError(err)
		if se == nil || se.Code != herald.SendTimeout || se.Permanent {
			t.Fatalf("err = %v, want a temporary timeout", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s for two 50ms attempts", d)
		}
	})

	t.Run("refuses a URL that is not http or https", func(t *testing.T) {
		t.Parallel()
		_, err := newClient(webhook.Config{}).Send(context.Background(), &herald.Webhook{URL: "ftp://x.test/"})
		if se := herald.AsSendError(err); se == nil || se.Code != herald.SendInvalid || !se.Permanent {
			t.Errorf("err = %v, want permanent invalid", err)
		}
	})
}

func TestDestinationGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]

	tests := []struct {
		name    string
		url     string
		allow   []netip.Prefix
		refused bool
	}{
		{name: "refuses loopback by default", url: srv.URL, refused: true},
		{name: "refuses a host name resolving to loopback, checked at dial time", url: "http://localhost" + port, refused: true},
		{name: "refuses loopback outside the allowed ranges", url: srv.URL, allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, refused: true},
		{name: "sends to loopback when its range is allowed", url: srv.URL, allow: loopback},
	}
	for _, tt := range tests { // not parallel: the hit count below covers all four
		t.Run(tt.name, func(t *testing.T) {
			allow := tt.allow
			if allow == nil {
				allow = []netip.Prefix{}
			}
			_, err := newClient(webhook.Config{AllowCIDRs: allow}).Send(context.Background(), &herald.Webhook{URL: tt.url})
			if !tt.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			se := herald.AsSendError(err)
			if se == nil || se.Code != herald.SendRefused || !se.Permanent || !strings.Contains(se.Message, "AllowCIDRs") {
				t.Errorf("err = %v, want a permanent refusal naming AllowCIDRs", err)
			}
		})
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("server got %d requests, want 1 (only the allowed one)", got)
	}
}
