package tracking_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/liquid"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/tracking"
)

type bundle struct {
	svc   *delivery.Service
	store *store.Store
	ws    *herald.Workspace
	smtp  *smtptest.Server
	url   string
}

// setup runs the tracking endpoints over a real delivery service, store and SMTP server.
func setup(t *testing.T, dsn string) *bundle {
	t.Helper()
	s, ws := testdb.OpenStore(t, dsn, herald.Workspace{SiteID: "site", AppAPIKey: "app-key"})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	smtp := smtptest.Start(t)
	tracker := &email.Tracker{BaseURL: srv.URL, Secret: []byte("secret")}
	cfg, err := email.ParseURL(smtp.URL(), "noreply@herald.test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tracker = tracker
	sender, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := delivery.New(s, liquid.New(liquid.Options{}), delivery.Channels{Email: sender}, delivery.Config{
		PublicURL: srv.URL, Poll: 50 * time.Millisecond, VerifyOpen: tracker.VerifyOpen,
		VerifyClick: func(tok string) (string, string, error) {
			c, err := tracker.VerifyClick(tok)
			return c.DeliveryID, c.URL, err
		},
	}, log)
	h := tracking.New(svc, log)
	h.Heartbeat = 50 * time.Millisecond
	h.Register(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	errs, err := s.Apply(context.Background(), ws.ID, []herald.Op{&herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByID, Value: "ann"},
		Email: "ann@example.com", Attributes: herald.Attributes{"first_name": []byte(`"Ann"`)}}})
	if err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	return &bundle{svc: svc, store: s, ws: ws, smtp: smtp, url: srv.URL}
}

func (b *bundle) status(t *testing.T, id, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		d, err := b.store.Delivery(context.Background(), b.ws.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %q (%s), want %q", d.Status, d.Reason, want)
		}
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestPixelClickAndUnsubscribeWorkWithoutLogin(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		d, err := b.svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: herald.PersonRef{Kind: herald.ByID, Value: "ann"},
			Fields: map[string]string{"subject": "Hi", "body": `<a href="https://example.com/x">x</a> <a href="{% unsubscribe_url %}">unsubscribe</a> <a href="{% view_in_browser_url %}">view</a>`}})
		if err != nil {
			t.Fatal(err)
		}
		b.status(t, d.ID, herald.StatusSent)
		msg := string(b.smtp.Messages()[0].Data)
		msg = strings.ReplaceAll(strings.ReplaceAll(msg, "=\r\n", ""), "=3D", "=")
		pixel := regexp.MustCompile(regexp.QuoteMeta(b.url) + `/t/o/[A-Za-z0-9_-]+`).FindString(msg)
		click := regexp.MustCompile(regexp.QuoteMeta(b.url) + `/t/c/[A-Za-z0-9_-]+`).FindString(msg)
		if pixel == "" || click == "" {
			t.Fatalf("no pixel or tracked link in\n%s", msg)
		}
		if !strings.Contains(msg, b.url+"/unsubscribe/"+d.ID) {
			t.Errorf("unsubscribe link missing or tracked in\n%s", msg)
		}

		resp, err := http.Get(pixel)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
			t.Errorf("pixel: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		b.status(t, d.ID, herald.StatusOpened)
		resp, err = noRedirect.Get(click)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != "https://example.com/x" {
			t.Errorf("click: %d to %q, want 302 to https://example.com/x", resp.StatusCode, got)
		}
		b.status(t, d.ID, herald.StatusClicked)
		resp, _ = noRedirect.Get(b.url + "/t/c/forged")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("forged click: %d, want 404", resp.StatusCode)
		}

		if !strings.Contains(msg, b.url+"/t/v/"+d.ID) {
			t.Errorf("no view-in-browser link in\n%s", msg)
		}
		for _, tc := range []struct {
			name, method, url, ctype, body string
			want                           int
			contains                       string
		}{
			{"view in browser", "GET", "/t/v/" + d.ID, "", "", 200, `<a href="https://example.com/x">x</a>`},
			{"view an unknown message", "GET", "/t/v/nope", "", "", 404, "not available"},
			{"page asks first", "GET", "/unsubscribe/" + d.ID, "", "", 200, "<form method=\"post\">"},
			{"unknown delivery", "POST", "/unsubscribe/nope", "application/x-www-form-urlencoded", "", 404, "not valid"},
			{"one-click post", "POST", "/unsubscribe/" + d.ID, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", 200, "You are unsubscribed"},
			{"customer.io json", "POST", "/unsubscribe/" + d.ID, "application/json", `{"unsubscribe":true}`, 200, "{}"},
		} {
			req, _ := http.NewRequest(tc.method, b.url+tc.url, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.contains) {
				t.Errorf("%s: %d %s, want %d containing %q", tc.name, resp.StatusCode, body, tc.want, tc.contains)
			}
		}
		p, _ := b.store.Person(ctx, b.ws.ID, herald.PersonRef{Kind: herald.ByID, Value: "ann"})
		if string(p.Attributes["unsubscribed"]) != "true" {
			t.Errorf("unsubscribed = %s, want true", p.Attributes["unsubscribed"])
		}
		hist, _ := b.store.DeliveryHistory(ctx, d.ID)
		var metrics []string
		for _, e := range hist {
			metrics = append(metrics, e.Metric)
		}
		if !slices.Contains(metrics, herald.StatusUnsubscribed) {
			t.Errorf("history %v lacks unsubscribed", metrics)
		}
	})
}

// sse reads server-sent events from r.
type sse struct{ r *bufio.Reader }

func (s sse) next(t *testing.T) (event, data string) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "" && event != "":
			return event, data
		}
	}
}

func TestInAppInboxOverHTTPAndSSE(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		b := setup(t, dsn)
		ctx := context.Background()
		tok := herald.InboxToken(b.ws, "ann")

		resp, err := http.Get(b.url + "/inbox/v1/stream?token=" + url.QueryEscape(tok))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		stream := sse{bufio.NewReader(resp.Body)}
		if ev, data := stream.next(t); ev != "inbox" || data != `{"messages":[]}` {
			t.Fatalf("first event %s %s, want an empty inbox", ev, data)
		}

		d, err := b.svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: herald.PersonRef{Kind: herald.ByID, Value: "ann"},
			Channel: herald.ChannelInApp, Fields: map[string]string{"title": "Hello {{ customer.first_name }}", "body": "<p>New listing</p>"}})
		if err != nil {
			t.Fatal(err)
		}
		ev, data := stream.next(t)
		var live herald.InboxMessage
		json.Unmarshal([]byte(data), &live)
		if ev != "message" || live.DeliveryID != d.ID || live.Title != "Hello Ann" {
			t.Fatalf("live event %s %s, want the message %s titled Hello Ann", ev, data, d.ID)
		}
		b.status(t, d.ID, herald.StatusSent)

		// A message another herald process put in the inbox arrives with the next re-read.
		p, _ := b.store.Person(ctx, b.ws.ID, herald.PersonRef{Kind: herald.ByID, Value: "ann"})
		errs, err := b.store.Apply(ctx, b.ws.ID, []herald.Op{&herald.QueueDelivery{Delivery: &herald.Delivery{ID: "elsewhere",
			Customer: p.Identifiers(), Channel: herald.ChannelInApp, Status: herald.StatusFailed, Reason: "sent by another process in this test"}}})
		if err != nil || errs[0] != nil {
			t.Fatal(err, errs)
		}
		if err := b.store.PutInboxMessage(ctx, b.ws.ID, p.PK, herald.InboxMessage{DeliveryID: "elsewhere", DisplayType: "banner", Body: "other"}); err != nil {
			t.Fatal(err)
		}
		if ev, data := stream.next(t); ev != "message" || !strings.Contains(data, `"delivery_id":"elsewhere"`) {
			t.Fatalf("event %s %s, want the message from elsewhere", ev, data)
		}
		if err := b.store.SetInboxState(ctx, b.ws.ID, p.PK, "elsewhere", herald.StatusDismissed); err != nil {
			t.Fatal(err)
		}

		get := func(token string) (int, []herald.InboxMessage) {
			req, _ := http.NewRequest("GET", b.url+"/inbox/v1/messages", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct{ Messages []herald.InboxMessage }
			json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out.Messages
		}
		if code, msgs := get(tok); code != 200 || len(msgs) != 1 || msgs[0].Body != "<p>New listing</p>" {
			t.Fatalf("inbox: %d %+v", code, msgs)
		}
		if code, _ := get(tok[:len(tok)-2] + "00"); code != http.StatusUnauthorized {
			t.Errorf("a forged token got %d, want 401", code)
		}
		for _, metric := range []string{"opened", "clicked", "dismissed"} {
			req, _ := http.NewRequest("POST", b.url+"/inbox/v1/messages/"+d.ID+"/"+metric, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("report %s: %d", metric, resp.StatusCode)
			}
		}
		if _, msgs := get(tok); len(msgs) != 0 {
			t.Errorf("a dismissed message is still in the inbox: %+v", msgs)
		}
		hist, _ := b.store.DeliveryHistory(ctx, d.ID)
		var metrics []string
		for _, e := range hist {
			metrics = append(metrics, e.Metric)
		}
		if want := []string{"queued", "sent", "opened", "clicked", "dismissed"}; !slices.Equal(metrics, want) {
			t.Errorf("history %v, want %v", metrics, want)
		}
		resp2, err := http.Get(b.url + "/inbox/v1/herald.js")
		if err != nil {
			t.Fatal(err)
		}
		js, _ := io.ReadAll(resp2.Body)
		resp2.Body.Close()
		if !strings.Contains(string(js), "EventSource") || !strings.HasPrefix(resp2.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("herald.js: %s", resp2.Header.Get("Content-Type"))
		}
	})
}
