package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/email"
)

// setup returns a Sender talking plain SMTP to a fresh test server.
func setup(t *testing.T, mutate func(*email.Config)) (*email.Sender, *testServer) {
	t.Helper()
	ts := startServer(t, false)
	cfg := email.Config{Host: ts.Host, Port: ts.Port, TLS: email.TLSNone, From: "Herald <news@herald.test>", PoolSize: 2}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, ts
}

// parsed is a received message split into headers and decoded MIME parts by content type.
type parsed struct {
	Header mail.Header
	Parts  map[string]string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading message: %v", err)
	}
	p := parsed{Header: m.Header, Parts: map[string]string{}}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		p.Parts[mt] = decode(t, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return p
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return p
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		p.Parts[ct] = decode(t, part.Header.Get("Content-Transfer-Encoding"), part)
	}
}

func decode(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	if strings.EqualFold(cte, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSend(t *testing.T) {
	t.Parallel()
	tracker := &email.Tracker{BaseURL: "https://t.herald.test", Secret: []byte("s3cret")}

	t.Run("delivers headers, both parts, unsubscribe headers and tracking", func(t *testing.T) {
		t.Parallel()
		s, ts := setup(t, func(c *email.Config) { c.Tracker = tracker })
		const unsub = "https://herald.test/unsubscribe/d1"
		res, err := s.Send(context.Background(), &herald.Email{
			DeliveryID:        "d1",
			To:                "Ada <ada@example.com>",
			ReplyTo:           "help@herald.test",
			Subject:           "Spring sale — 20% off",
			Preheader:         "Only this week",
			HTML:              `<html><body><p class="x">Hi &amp; welcome</p><a href="https://shop.test/sale?a=1&amp;b=2" class="btn">Shop now</a> <a href="` + unsub + `">Unsubscribe</a> <a href="mailto:help@herald.test">Write us</a></body></html>`,
			Headers:           map[string]string{"X-Campaign": "42"},
			UnsubscribeURL:    unsub,
			UnsubscribeMailto: "unsubscribe+d1@herald.test",
		})
		if err != nil {
			t.Fatal(err)
		}
		msgs := ts.messages()
		if len(msgs) != 1 {
			t.Fatalf("got %d messages, want 1", len(msgs))
		}
		if got, want := msgs[0].From, "news@herald.test"; got != want {
			t.Errorf("MAIL FROM = %q, want %q", got, want)
		}
		if got, want := strings.Join(msgs[0].To, ","), "ada@example.com"; got != want {
			t.Errorf("RCPT TO = %q, want %q", got, want)
		}
		m := parse(t, msgs[0].Data)
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		for name, want := range map[string]string{
			"From":                  `"Herald" <news@herald.test>`,
			"To":                    `"Ada" <ada@example.com>`,
			"Reply-To":              "<help@herald.test>",
			"Message-ID":            res.ProviderID,
			"X-Campaign":            "42",
			"X-Herald-Delivery-ID":  "d1",
			"List-Unsubscribe":      "<" + unsub + ">, <mailto:unsubscribe+d1@herald.test>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		} {
			if got := m.Header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if subject != "Spring sale — 20% off" {
			t.Errorf("Subject = %q", subject)
		}
		if !strings.Contains(res.Status, "OK") {
			t.Errorf("Status = %q, want the server's final reply", res.Status)
		}

		text := m.Parts["text/plain"]
		for _, want := range []string{"Hi & welcome", "Shop now (https://shop.test/sale?a=1&b=2)", "Write us (mailto:help@herald.test)"} {
			if !strings.Contains(text, want) {
				t.Errorf("text part %q lacks %q", text, want)
			}
		}
		body := m.Parts["text/html"]
		if !strings.Contains(body, `<body><div style="display:none;`) || !strings.Contains(body, "Only this week</div>") {
			t.Errorf("preheader not hidden at the top of the body: %s", body)
		}
		clicks := hrefs(t, body, tracker.BaseURL+"/t/c/")
		if len(clicks) != 1 {
			t.Fatalf("tracked links = %v, want only the shop link", clicks)
		}
		c, err := tracker.VerifyClick(clicks[0])
		if err != nil {
			t.Fatal(err)
		}
		if want := (email.Click{DeliveryID: "d1", Index: 0, URL: "https://shop.test/sale?a=1&b=2"}); c != want {
			t.Errorf("click = %+v, want %+v", c, want)
		}
		if !strings.Contains(body, `class="btn"`) || !strings.Contains(body, `href="`+unsub+`"`) {
			t.Errorf("attributes or the unsubscribe link were changed: %s", body)
		}
		if !strings.Contains(body, `<img src="`+tracker.OpenURL("d1")+`"`) {
			t.Errorf("no open pixel in %s", body)
		}
	})

	t.Run("sends a text-only email without tracking", func(t *testing.T) {
		t.Parallel()
		s, ts := setup(t, func(c *email.Config) { c.Tracker = tracker })
		_, err := s.Send(context.Background(), &herald.Email{DeliveryID: "d2", To: "bob@example.com", Subject: "Hi", Text: "Plain https://x.test"})
		if err != nil {
			t.Fatal(err)
		}
		m := parse(t, ts.messages()[0].Data)
		if got := strings.TrimSpace(m.Parts["text/plain"]); got != "Plain https://x.test" {
			t.Errorf("text = %q", got)
		}
		if _, ok := m.Parts["text/html"]; ok || m.Header.Get("List-Unsubscribe") != "" {
			t.Errorf("unexpected HTML part or unsubscribe header: %v", m)
		}
	})

	invalid := []struct {
		name string
		e    herald.Email
	}{
		{"refuses an invalid recipient", herald.Email{To: "not an address", Text: "x"}},
		{"refuses an email without a body", herald.Email{To: "ada@example.com"}},
		{"refuses a header name that smuggles another header", herald.Email{To: "ada@example.com", Text: "x", Headers: map[string]string{"X-A: 1\r\nBcc": "eve@example.com"}}},
		{"refuses a header Herald composes", herald.Email{To: "ada@example.com", Text: "x", Headers: map[string]string{"bcc": "eve@example.com"}}},
	}
	for _, tt := range invalid {
		t.Run(tt.name+" before connecting", func(t *testing.T) {
			t.Parallel()
			s, ts := setup(t, nil)
			_, err := s.Send(context.Background(), &tt.e)
			if se := herald.AsSendError(err); se == nil || !se.Permanent || se.Code != herald.SendInvalid {
				t.Errorf("err = %v, want a permanent invalid SendError", err)
			}
			if n := ts.sessionCount(); n != 0 {
				t.Errorf("connected %d times, want 0", n)
			}
		})
	}

	t.Run("encodes a header value with a line break instead of starting a new header", func(t *testing.T) {
		t.Parallel()
		s, ts := setup(t, nil)
		_, err := s.Send(context.Background(), &herald.Email{To: "ada@example.com", Text: "x", Headers: map[string]string{"X-Note": "a\r\nBcc: eve@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		m := parse(t, ts.messages()[0].Data)
		if m.Header.Get("Bcc") != "" || len(ts.messages()[0].To) != 1 {
			t.Errorf("header injection: %v", m.Header)
		}
	})
}

// hrefs returns the href values in body that start with prefix, minus the prefix.
func hrefs(t *testing.T, body, prefix string) []string {
	t.Helper()
	var out []string
	for _, part := range strings.Split(body, `href="`)[1:] {
		v, _, _ := strings.Cut(part, `"`)
		if rest, ok := strings.CutPrefix(v, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		rcptErr       error
		dataErr       error
		wantPermanent bool
		wantProvider  string
	}{
		{
			name:          "a 550 recipient rejection is permanent",
			rcptErr:       &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
			wantPermanent: true, wantProvider: "550 5.1.1",
		},
		{
			name:         "a 451 greylisting reply is temporary",
			rcptErr:      &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "try again later"},
			wantProvider: "451 4.7.1",
		},
		{
			name:          "a 554 answer to the content is permanent",
			dataErr:       &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "spam"},
			wantPermanent: true, wantProvider: "554 5.6.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := setup(t, nil)
			ts.rcptErr, ts.dataErr = tt.rcptErr, tt.dataErr
			_, err := s.Send(context.Background(), &herald.Email{To: "ada@example.com", Subject: "x", Text: "x"})
			var se *herald.SendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *herald.SendError", err)
			}
			if se.Permanent != tt.wantPermanent || se.ProviderCode != tt.wantProvider {
				t.Errorf("got permanent=%v provider=%q, want %v %q (%v)", se.Permanent, se.ProviderCode, tt.wantPermanent, tt.wantProvider, err)
			}
			// The session stays usable after a refusal: the next email goes out.
			ts.rcptErr, ts.dataErr = nil, nil
			if _, err := s.Send(context.Background(), &herald.Email{To: "ada@example.com", Text: "again"}); err != nil {
				t.Errorf("next send: %v", err)
			}
		})
	}

	t.Run("an unreachable server is temporary", func(t *testing.T) {
		t.Parallel()
		s, err := email.New(email.Config{Host: "127.0.0.1", Port: 1, TLS: email.TLSNone, From: "a@herald.test", Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Send(context.Background(), &herald.Email{To: "ada@example.com", Text: "x"})
		if se := herald.AsSendError(err); se == nil || se.Permanent {
			t.Errorf("err = %v, want a temporary SendError", err)
		}
	})
}

func TestPool(t *testing.T) {
	t.Parallel()

	t.Run("reuses its connections across sends", func(t *testing.T) {
		t.Parallel()
		s, ts := setup(t, nil)
		for range 10 {
			if _, err := s.Send(context.Background(), &herald.Email{To: "ada@example.com", Text: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		if got := ts.sessionCount(); got != 1 {
			t.Errorf("sequential sends opened %d connections, want 1", got)
		}
	})

	t.Run("reconnects when the server dropped the connection", func(t *testing.T) {
		t.Parallel()
		s, ts := setup(t, nil)
		if _, err := s.Send(context.Background(), &herald.Email{To: "ada@example.com", Text: "one"}); err != nil {
			t.Fatal(err)
		}
		ts.dropConnections()
		time.Sleep(10 * time.Millisecond)
		res, err := s.Send(context.Background(), &herald.Email{To: "ada@example.com", Text: "two"})
		if err != nil {
			t.Fatalf("send after drop: %v", err)
		}
		if got := len(ts.messages()); got != 2 {
			t.Errorf("server got %d messages, want 2 (attempts %d)", got, res.Attempts)
		}
	})

	t.Run("waits for a free connection no longer than the context allows", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, false)
		s, err := email.New(email.Config{Host: ts.Host, Port: ts.Port, TLS: email.TLSNone, From: "a@herald.test", PoolSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = s.Send(ctx, &herald.Email{To: "ada@example.com", Text: "x"})
		if !errors.Is(err, context.Canceled) || herald.IsPermanent(err) {
			t.Errorf("err = %v, want a temporary error wrapping context.Canceled", err)
		}
	})
}

func TestTLS(t *testing.T) {
	t.Parallel()
	cert, roots := selfSigned(t)
	users := map[string]string{"herald": "pw"}
	tests := []struct {
		name     string
		implicit bool
		mode     email.TLSMode
		roots    bool
		wantErr  bool
	}{
		{name: "STARTTLS with a trusted self-signed certificate", mode: email.TLSStartTLS, roots: true},
		{name: "implicit TLS with a trusted self-signed certificate", implicit: true, mode: email.TLSImplicit, roots: true},
		{name: "STARTTLS refuses an unknown certificate", mode: email.TLSStartTLS, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, tt.implicit, withTLS(cert), withAuth(users))
			cfg := email.Config{Host: ts.Host, Port: ts.Port, TLS: tt.mode, From: "a@herald.test", Username: "herald", Password: "pw"}
			if tt.roots {
				cfg.TLSConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
			}
			s, err := email.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Send(context.Background(), &herald.Email{To: "ada@example.com", Text: "secret"})
			if tt.wantErr {
				if err == nil || herald.IsPermanent(err) {
					t.Errorf("err = %v, want a temporary error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ts.messages()[0]
			if !got.TLS && !tt.implicit || got.User != "herald" {
				t.Errorf("received over TLS=%v as %q, want TLS as herald", got.TLS, got.User)
			}
		})
	}
}
