package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/push"
	"github.com/heraldhq/herald/sms"
	"github.com/heraldhq/herald/webhook"
)

func TestWebhookFailingTwiceIsDeliveredExactlyOnceSigned(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		secret := []byte("webhook secret")
		var calls atomic.Int32
		var mu sync.Mutex
		var accepted [][]byte
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if calls.Add(1) <= 2 {
				http.Error(w, "try later", http.StatusServiceUnavailable)
				return
			}
			if err := webhook.Verify(secret, r.Header, body, time.Now(), time.Minute); err != nil {
				t.Errorf("signature: %v", err)
			}
			if got := r.Header.Get("X-Order"); got != "A-17" {
				t.Errorf("X-Order header %q, want A-17", got)
			}
			mu.Lock()
			accepted = append(accepted, body)
			mu.Unlock()
		}))
		defer rcv.Close()
		client := webhook.New(webhook.Config{Secret: secret, Backoff: 10 * time.Millisecond,
			AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		svc, b := setup(t, dsn, func(_ *delivery.Config, ch *delivery.Channels) { ch.Webhook = client })
		b.person(t, "dan", `{"plan":"pro"}`)
		d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("dan"), Channel: herald.ChannelWebhook,
			Data: map[string]any{"order": "A-17"},
			Fields: map[string]string{"url": rcv.URL + "/hook", "headers": `{"X-Order": "{{ trigger.order }}"}`,
				"body": `{"person": {{ customer.id | json }}, "plan": {{ customer.plan | json }}}`}})
		if err != nil {
			t.Fatal(err)
		}
		b.waitStatus(t, d.ID, herald.StatusSent)
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if len(accepted) != 1 || string(accepted[0]) != `{"person": "dan", "plan": "pro"}` {
			t.Errorf("accepted %q, want exactly one rendered body", accepted)
		}
		if n := calls.Load(); n != 3 {
			t.Errorf("%d requests, want 3 (two failures, one success)", n)
		}
	})
}

func TestSMSReachesATwilioCompatibleAPI(t *testing.T) {
	t.Parallel()
	var got url.Values
	var user, pass string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" {
			t.Errorf("path %s", r.URL.Path)
		}
		user, pass, _ = r.BasicAuth()
		r.ParseForm()
		got = r.PostForm
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"sid":"SM1","status":"queued"}`))
	}))
	defer api.Close()
	client, err := sms.New(sms.Config{AccountSID: "AC123", AuthToken: "tok", From: "+15550000000", BaseURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	svc, b := setup(t, "", func(_ *delivery.Config, ch *delivery.Channels) { ch.SMS = client })
	b.person(t, "eve", `{"phone":"+15551234567","first_name":"Eve"}`)
	d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("eve"), Channel: herald.ChannelSMS,
		Fields: map[string]string{"body": "Hi {{ customer.first_name }}, your code is {{ trigger.code }}"}, Data: map[string]any{"code": "1234"}})
	if err != nil {
		t.Fatal(err)
	}
	b.waitStatus(t, d.ID, herald.StatusSent)
	if got.Get("To") != "+15551234567" || got.Get("From") != "+15550000000" || got.Get("Body") != "Hi Eve, your code is 1234" {
		t.Errorf("form %v", got)
	}
	if user != "AC123" || pass != "tok" {
		t.Errorf("basic auth %q:%q", user, pass)
	}
}

func TestPushReachesEveryDeviceAndDropsUnregisteredOnes(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		var mu sync.Mutex
		tokens := map[string]map[string]any{}
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer fcm-token" || r.URL.Path != "/v1/projects/proj/messages:send" {
				t.Errorf("request %s with %q", r.URL.Path, r.Header.Get("Authorization"))
			}
			var body struct{ Message map[string]any }
			json.NewDecoder(r.Body).Decode(&body)
			tok, _ := body.Message["token"].(string)
			mu.Lock()
			tokens[tok] = body.Message
			mu.Unlock()
			if tok == "gone" {
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"error":{"code":404,"status":"NOT_FOUND","message":"not registered","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`))
				return
			}
			w.Write([]byte(`{"name":"projects/proj/messages/1"}`))
		}))
		defer api.Close()
		client, err := push.New(push.Config{ProjectID: "proj", AccessToken: "fcm-token", BaseURL: api.URL})
		if err != nil {
			t.Fatal(err)
		}
		svc, b := setup(t, dsn, func(_ *delivery.Config, ch *delivery.Channels) { ch.Push = client })
		b.person(t, "fay", `{"first_name":"Fay"}`)
		for _, tok := range []string{"phone", "gone"} {
			b.apply(t, &herald.AddDevice{Ref: ref("fay"), Device: herald.Device{Token: tok, Platform: "android"}})
		}
		d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("fay"), Channel: herald.ChannelPush,
			Fields: map[string]string{"title": "Hi {{ customer.first_name }}", "body": "New listing", "link": "https://example.com/l/1",
				"custom_data": `{"listing": "l1"}`}})
		if err != nil {
			t.Fatal(err)
		}
		b.waitStatus(t, d.ID, herald.StatusSent)
		mu.Lock()
		msg := tokens["phone"]
		mu.Unlock()
		if len(tokens) != 2 || msg == nil {
			t.Fatalf("tokens %v, want phone and gone", tokens)
		}
		n, _ := msg["notification"].(map[string]any)
		data, _ := msg["data"].(map[string]any)
		if n["title"] != "Hi Fay" || n["body"] != "New listing" || data["listing"] != "l1" || data["CIO-Delivery-ID"] != d.ID || data["link"] != "https://example.com/l/1" {
			t.Errorf("message %v", msg)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			p, _ := b.store.Person(context.Background(), b.ws.ID, ref("fay"))
			ds, _ := b.store.Devices(context.Background(), p.PK)
			var left []string
			for _, x := range ds {
				left = append(left, x.Token)
			}
			if slices.Equal(left, []string{"phone"}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("devices %v, want the unregistered one dropped", left)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// flaky is a channel that fails temporarily a number of times, then accepts.
type flaky struct {
	mu    sync.Mutex
	fails int
	sent  []string
}

func (f *flaky) Send(_ context.Context, e *herald.Email) (herald.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return herald.SendResult{}, herald.TemporaryError(herald.SendUnavailable, "421", "try again", nil)
	}
	f.sent = append(f.sent, e.DeliveryID)
	return herald.SendResult{ProviderID: "ok"}, nil
}

func TestTemporaryFailuresAreRetriedWithBackoffAndSentOnce(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		ch := &flaky{fails: 1}
		svc, b := setup(t, dsn, func(_ *delivery.Config, c *delivery.Channels) { c.Email = ch })
		b.person(t, "gus", `{"email":"gus@example.com"}`)
		start := time.Now()
		d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("gus"),
			Fields: map[string]string{"subject": "s", "body": "b"}})
		if err != nil {
			t.Fatal(err)
		}
		got := b.waitStatus(t, d.ID, herald.StatusSent)
		if now := time.Now(); now.Unix() < start.Unix()+1 { // due times are whole seconds
			t.Errorf("retried within the second it failed (after %s), before the 1s backoff", now.Sub(start))
		}
		if got.Attempts != 2 {
			t.Errorf("attempts %d, want 2", got.Attempts)
		}
		if h := b.metrics(t, d.ID); !slices.Equal(h, []string{"queued", "attempted", "sent"}) {
			t.Errorf("history %v", h)
		}
		ch.mu.Lock()
		defer ch.mu.Unlock()
		if !slices.Equal(ch.sent, []string{d.ID}) {
			t.Errorf("sent %v, want once", ch.sent)
		}
	})
}

func TestConcurrentSendersNeverSendADeliveryTwice(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		ch := &flaky{}
		svc, b := setup(t, dsn, func(_ *delivery.Config, c *delivery.Channels) { c.Email = ch })
		// A second service on the same store competes for the same deliveries.
		other := delivery.New(b.store, nil, delivery.Channels{Email: ch}, delivery.Config{Poll: 10 * time.Millisecond}, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { other.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		b.person(t, "hal", `{"email":"hal@example.com"}`)
		const n = 200
		for i := 0; i < n; i++ {
			if _, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("hal"),
				Fields: map[string]string{"subject": "s", "body": "b"}}); err != nil {
				t.Fatal(err)
			}
			other.Kick()
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			ch.mu.Lock()
			got := len(ch.sent)
			ch.mu.Unlock()
			if got >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		ch.mu.Lock()
		defer ch.mu.Unlock()
		seen := map[string]bool{}
		for _, id := range ch.sent {
			if seen[id] {
				t.Errorf("delivery %s sent twice", id)
			}
			seen[id] = true
		}
		if len(seen) != n {
			t.Errorf("%d deliveries sent, want %d", len(seen), n)
		}
	})
}

func TestTemporaryFailuresFailTheDeliveryAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	ch := &flaky{fails: 10}
	svc, b := setup(t, "", func(c *delivery.Config, chs *delivery.Channels) { c.MaxAttempts = 2; chs.Email = ch })
	b.person(t, "lea", `{"email":"lea@example.com"}`)
	d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("lea"), Fields: map[string]string{"subject": "s", "body": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	got := b.waitStatus(t, d.ID, herald.StatusFailed)
	if got.Attempts != 2 || !strings.Contains(got.Reason, "gave up after 2 attempts") || !strings.Contains(got.Reason, "421") {
		t.Errorf("delivery %+v", got)
	}
	if h := b.metrics(t, d.ID); !slices.Equal(h, []string{"queued", "attempted", "failed"}) {
		t.Errorf("history %v", h)
	}
}
