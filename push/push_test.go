package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/push"
)

// answer is what the fake FCM says to one device token.
type answer struct {
	status int
	body   string
}

const unregistered = `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND",` +
	`"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`

// fcm is an httptest stand-in for FCM HTTP v1 that answers per device token (200 with a
// message name by default) and records every request.
type fcm struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]answer
	reqs    []*http.Request
	bodies  []map[string]any
}

func newFCM(t *testing.T, answers map[string]answer) *fcm {
	t.Helper()
	f := &fcm{answers: answers}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body struct {
			Message map[string]any `json:"message"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs, f.bodies = append(f.reqs, r), append(f.bodies, body.Message)
		f.mu.Unlock()
		token, _ := body.Message["token"].(string)
		a, ok := f.answers[token]
		if !ok {
			a = answer{200, `{"name":"projects/p1/messages/m-` + token + `"}`}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func newClient(t *testing.T, f *fcm, mutate func(*push.Config)) *push.Client {
	t.Helper()
	cfg := push.Config{ProjectID: "p1", AccessToken: "ya29.static", BaseURL: f.URL}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := push.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSend(t *testing.T) {
	t.Parallel()

	t.Run("posts one v1 message per token with Bearer auth", func(t *testing.T) {
		t.Parallel()
		f := newFCM(t, nil)
		res, err := newClient(t, f, nil).Send(context.Background(), &herald.Push{
			DeliveryID: "d1", Tokens: []string{"tokA", "tokB"}, Title: "Hi", Body: "Your order shipped",
			Link: "https://shop.test/o/1", Image: "https://cdn.test/i.png", Data: map[string]string{"order": "1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.reqs) != 2 || res.Attempts != 2 || res.ProviderID != "projects/p1/messages/m-tokA" {
			t.Fatalf("requests %d, result %+v", len(f.reqs), res)
		}
		for i, r := range f.reqs {
			if r.Method != http.MethodPost || r.URL.Path != "/v1/projects/p1/messages:send" || r.Header.Get("Authorization") != "Bearer ya29.static" {
				t.Errorf("request %d: %s %s %q", i, r.Method, r.URL.Path, r.Header.Get("Authorization"))
			}
		}
		got, _ := json.Marshal(f.bodies[1])
		want := `{"data":{"CIO-Delivery-ID":"d1","link":"https://shop.test/o/1","order":"1"},` +
			`"notification":{"body":"Your order shipped","image":"https://cdn.test/i.png","title":"Hi"},` +
			`"token":"tokB","webpush":{"fcm_options":{"link":"https://shop.test/o/1"}}}`
		if string(got) != want {
			t.Errorf("message =\n%s\nwant\n%s", got, want)
		}
		for i, r := range res.Recipients {
			if r.Err != nil || r.ProviderID == "" {
				t.Errorf("recipient %d = %+v", i, r)
			}
		}
	})

	t.Run("leaves a deep link out of webpush options", func(t *testing.T) {
		t.Parallel()
		f := newFCM(t, nil)
		if _, err := newClient(t, f, nil).Send(context.Background(), &herald.Push{Tokens: []string{"t"}, Title: "x", Link: "myapp://orders/1"}); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.bodies[0]["webpush"]; ok {
			t.Errorf("webpush set for a non-https link: %v", f.bodies[0])
		}
	})

	t.Run("reports an unregistered token per token and succeeds for the rest", func(t *testing.T) {
		t.Parallel()
		f := newFCM(t, map[string]answer{"gone": {404, unregistered}})
		res, err := newClient(t, f, nil).Send(context.Background(), &herald.Push{Tokens: []string{"gone", "live"}, Title: "x"})
		if err != nil {
			t.Fatalf("err = %v, want nil since one device accepted", err)
		}
		gone := herald.AsSendError(res.Recipients[0].Err)
		if gone == nil || gone.Code != herald.SendUnregistered || !gone.Permanent || gone.ProviderCode != "UNREGISTERED" {
			t.Errorf("gone token: %#v, want permanent unregistered", gone)
		}
		if res.Recipients[1].Err != nil {
			t.Errorf("live token: %v", res.Recipients[1].Err)
		}
	})

	tests := []struct {
		name          string
		answers       map[string]answer
		wantCode      herald.SendCode
		wantPermanent bool
	}{
		{
			name:     "all tokens unregistered is permanent",
			answers:  map[string]answer{"a": {404, unregistered}, "b": {404, unregistered}},
			wantCode: herald.SendUnregistered, wantPermanent: true,
		},
		{
			name:     "an invalid payload is permanent",
			answers:  map[string]answer{"a": {400, `{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}`}, "b": {400, `{"error":{"status":"INVALID_ARGUMENT"}}`}},
			wantCode: herald.SendRejected, wantPermanent: true,
		},
		{
			name:     "any temporary failure with nothing accepted is temporary",
			answers:  map[string]answer{"a": {404, unregistered}, "b": {503, `{"error":{"code":503,"status":"UNAVAILABLE"}}`}},
			wantCode: herald.SendUnavailable,
		},
		{
			name:     "quota exceeded is temporary",
			answers:  map[string]answer{"a": {429, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}`}, "b": {429, `{}`}},
			wantCode: herald.SendRateLimited,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFCM(t, tt.answers)
			res, err := newClient(t, f, nil).Send(context.Background(), &herald.Push{Tokens: []string{"a", "b"}, Title: "x"})
			se := herald.AsSendError(err)
			if se == nil || se.Code != tt.wantCode || se.Permanent != tt.wantPermanent {
				t.Errorf("err = %#v, want %s permanent=%v", se, tt.wantCode, tt.wantPermanent)
			}
			if len(res.Recipients) != 2 {
				t.Errorf("recipients = %+v, want both tokens reported", res.Recipients)
			}
		})
	}

	t.Run("asks the token source for every request", func(t *testing.T) {
		t.Parallel()
		f := newFCM(t, nil)
		calls := 0
		c := newClient(t, f, func(c *push.Config) {
			c.AccessToken = ""
			c.TokenSource = func(context.Context) (string, error) { calls++; return "fresh", nil }
		})
		if _, err := c.Send(context.Background(), &herald.Push{Tokens: []string{"t"}, Title: "x"}); err != nil {
			t.Fatal(err)
		}
		if calls != 1 || f.reqs[0].Header.Get("Authorization") != "Bearer fresh" {
			t.Errorf("calls %d, auth %q", calls, f.reqs[0].Header.Get("Authorization"))
		}
	})

	t.Run("a failing token source is temporary", func(t *testing.T) {
		t.Parallel()
		f := newFCM(t, nil)
		c := newClient(t, f, func(c *push.Config) {
			c.TokenSource = func(context.Context) (string, error) { return "", errors.New("metadata server down") }
		})
		_, err := c.Send(context.Background(), &herald.Push{Tokens: []string{"t"}, Title: "x"})
		if se := herald.AsSendError(err); se == nil || se.Permanent || len(f.reqs) != 0 {
			t.Errorf("err = %v after %d requests, want temporary before any request", err, len(f.reqs))
		}
	})

	t.Run("refuses a push without tokens", func(t *testing.T) {
		t.Parallel()
		f := newFCM(t, nil)
		_, err := newClient(t, f, nil).Send(context.Background(), &herald.Push{Title: "x"})
		if se := herald.AsSendError(err); se == nil || se.Code != herald.SendInvalid || !se.Permanent {
			t.Errorf("err = %v, want permanent invalid", err)
		}
	})
}
