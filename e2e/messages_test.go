package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestNodeClientTransactionalEmail: the official customerio-node client sends transactional
// emails (inline and from a stored message) and an in-app message through herald serve; the
// emails arrive at a real SMTP server with tracked links, whose pixel and click mark the
// delivery, and the unsubscribe link works without credentials. A missing variable fails the
// send with its name.
func TestNodeClientTransactionalEmail(t *testing.T) {
	t.Parallel()
	node := nodeClient(t)
	testdb.Engines(t, func(t *testing.T, dsn string) {
		smtp := smtptest.Start(t)
		s := startServer(t, dsn, "HERALD_SMTP_URL="+smtp.URL(), "HERALD_EMAIL_FROM=Herald <noreply@herald.test>")
		if st, b := s.track("PUT", "/api/v1/customers/ann", map[string]any{"email": "ann@example.com", "first_name": "Ann"}); st != 200 {
			t.Fatalf("identify: %d %s", st, b)
		}
		for _, tmpl := range []string{
			`{"name":"welcome","type":"email","content":{"from":"Shop <shop@herald.test>","subject":"Welcome to {{ trigger.plan }}","body":"<p>Your plan: {{ trigger.plan }}</p>"}}`,
			`{"name":"banner","type":"in_app","content":{"title":"Hi {{ customer.first_name }}","body":"<p>New listing</p>"}}`,
		} {
			if st, b := s.app("POST", "/v1/transactional", json.RawMessage(tmpl)); st != 201 {
				t.Fatalf("create message: %d %s", st, b)
			}
		}
		out := runNodeScript(t, s, node, "messages.js")
		var sent struct {
			DeliveryID string `json:"delivery_id"`
			QueuedAt   int64  `json:"queued_at"`
		}
		if !nodeStep(t, out, "inline", &sent) || sent.DeliveryID == "" || sent.QueuedAt == 0 {
			t.Fatalf("inline send = %s", out["inline"])
		}
		inline := sent.DeliveryID
		if !nodeStep(t, out, "template", &sent) || sent.DeliveryID == "" {
			t.Fatalf("template send = %s", out["template"])
		}
		if nodeStep(t, out, "inApp", &sent) && sent.DeliveryID == "" {
			t.Errorf("in-app send = %s", out["inApp"])
		}
		var thrown struct {
			Error      string `json:"error"`
			StatusCode int    `json:"statusCode"`
		}
		if json.Unmarshal(out["missingVariable"], &thrown); thrown.StatusCode != 400 {
			t.Errorf("missing variable: %s, want the client to throw a 400", out["missingVariable"])
		}
		var msgs struct {
			Messages []struct {
				ID, Status, Type string
				FailureMessage   string `json:"failure_message"`
			}
		}
		if nodeStep(t, out, "messages", &msgs) {
			failed := false
			for _, m := range msgs.Messages {
				failed = failed || (m.Status == "failed" && strings.Contains(m.FailureMessage, "customer.nickname"))
			}
			if len(msgs.Messages) != 3 || !failed {
				t.Errorf("ann's messages = %+v, want 3 with one failed naming customer.nickname", msgs.Messages)
			}
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if n := smtp.Wait(ctx, 2); n != 2 {
			t.Fatalf("%d emails arrived, want 2; logs:\n%s", n, s.logs)
		}
		var annMail string
		for _, m := range smtp.Messages() {
			data := strings.ReplaceAll(strings.ReplaceAll(string(m.Data), "=\r\n", ""), "=3D", "=")
			switch m.To[0] {
			case "ann@example.com":
				annMail = data
				if !strings.Contains(data, "Subject: Order A-17") || !strings.Contains(data, "Hi Ann") || !strings.Contains(data, `From: "Shop" <shop@herald.test>`) {
					t.Errorf("ann's email:\n%s", data)
				}
			case "bob@example.com":
				if !strings.Contains(data, "Subject: Welcome to pro") || !strings.Contains(data, "Your plan: pro") {
					t.Errorf("bob's email:\n%s", data)
				}
			}
		}
		click := regexp.MustCompile(regexp.QuoteMeta(s.URL) + `/t/c/[A-Za-z0-9_-]+`).FindString(annMail)
		pixel := regexp.MustCompile(regexp.QuoteMeta(s.URL) + `/t/o/[A-Za-z0-9_-]+`).FindString(annMail)
		if click == "" || pixel == "" {
			t.Fatalf("no tracked link or pixel pointing at %s in\n%s", s.URL, annMail)
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, u := range []string{pixel, click} {
			resp, err := noRedirect.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if u == click && resp.Header.Get("Location") != "https://shop.example.com/o/A-17" {
				t.Errorf("click redirects to %q", resp.Header.Get("Location"))
			}
		}
		st, b := s.app("GET", "/v1/messages/"+inline, nil)
		if st != 200 || !strings.Contains(string(b), `"status":"clicked"`) || !strings.Contains(string(b), `"metric":"opened"`) {
			t.Errorf("message after open and click: %d %s", st, b)
		}
		resp, err := http.Post(s.URL+"/unsubscribe/"+inline, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("unsubscribe: %d", resp.StatusCode)
		}
		if st, b := s.app("GET", "/v1/customers/ann/attributes", nil); st != 200 || !strings.Contains(string(b), `"unsubscribed":true`) {
			t.Errorf("ann after unsubscribing: %d %s", st, b)
		}
	})
}

// TestWorkspaceEmailSettingsChooseTheRelay: a workspace whose email settings name an SMTP URL
// sends through that relay instead of the server's HERALD_SMTP_URL, from its own address.
func TestWorkspaceEmailSettingsChooseTheRelay(t *testing.T) {
	t.Parallel()
	server, own := smtptest.Start(t), smtptest.Start(t)
	s := startServer(t, "", "HERALD_SMTP_URL="+server.URL())
	if st, b := s.app("PUT", "/v1/settings/channels/email", map[string]string{"smtp_url": own.URL(), "from": "Own <own@herald.test>"}); st != 200 {
		t.Fatalf("settings: %d %s", st, b)
	}
	time.Sleep(2100 * time.Millisecond) // settings are re-read at most every 2s
	st, b := s.app("POST", "/v1/send/email", map[string]any{"identifiers": map[string]string{"email": "zoe@example.com"}, "subject": "Hi", "body": "<p>Hi</p>"})
	if st != 200 {
		t.Fatalf("send: %d %s", st, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if own.Wait(ctx, 1) != 1 {
		t.Fatalf("nothing arrived at the workspace's relay; logs:\n%s", s.logs)
	}
	if m := own.Messages()[0]; m.From != "own@herald.test" {
		t.Errorf("MAIL FROM %q, want own@herald.test", m.From)
	}
	if n := server.Count(); n != 0 {
		t.Errorf("%d emails went through the server's relay", n)
	}
}
