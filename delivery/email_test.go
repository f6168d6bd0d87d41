package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/liquid"
)

// parts returns the text/plain and text/html bodies of a multipart email.
func parts(t *testing.T, msg *mail.Message) (text, html string) {
	t.Helper()
	var walk func(r io.Reader, ctype string)
	walk = func(r io.Reader, ctype string) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("content type %q: %v", ctype, err)
		}
		if !strings.HasPrefix(mt, "multipart/") {
			b, _ := io.ReadAll(r)
			switch mt {
			case "text/plain":
				text = string(b)
			case "text/html":
				html = string(b)
			}
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			var body io.Reader = p
			if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
				body = p // multipart.Reader decodes quoted-printable itself
			}
			walk(body, p.Header.Get("Content-Type"))
		}
	}
	walk(msg.Body, msg.Header.Get("Content-Type"))
	return text, html
}

func TestTransactionalEmailArrivesTrackedAndUnsubscribable(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		svc, b := setup(t, dsn)
		ctx := context.Background()
		if _, err := b.store.CreateObjectType(ctx, b.ws.ID, herald.ObjectType{Name: "Accounts", SingularName: "Account"}); err != nil {
			t.Fatal(err)
		}
		b.person(t, "ann", `{"email":"ann@example.com","first_name":"Ann"}`)
		b.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acme"}, Attributes: herald.Attributes{"name": []byte(`"Acme"`)},
			People: []herald.ObjectRelationship{{Person: ref("ann"), Attributes: herald.Attributes{"role": []byte(`"admin"`)}}}})

		d, err := svc.Send(ctx, herald.SendRequest{
			WorkspaceID: b.ws.ID, Person: ref("ann"), Channel: herald.ChannelEmail, Transactional: true,
			Data: map[string]any{"order": "A-17"},
			Fields: map[string]string{
				"subject": "Order {{ trigger.order }} for {{ customer.first_name }}",
				"body": `<p>Hi {{ customer.first_name }}, {{ objects.accounts[0].name }} ({{ objects.accounts[0].relationship.role }})</p>` +
					`<a href="https://shop.example.com/orders/{{ trigger.order }}">Your order</a>`,
			},
		})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		b.waitStatus(t, d.ID, herald.StatusSent)
		msgs := b.smtp.Messages()
		if len(msgs) != 1 {
			t.Fatalf("got %d messages, want 1", len(msgs))
		}
		if got, want := msgs[0].To, []string{"ann@example.com"}; !slices.Equal(got, want) {
			t.Errorf("RCPT %v, want %v", got, want)
		}
		m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.Header.Get("Subject"), "Order A-17 for Ann"; got != want {
			t.Errorf("Subject %q, want %q", got, want)
		}
		if got, want := m.Header.Get("List-Unsubscribe"), "<https://herald.test/unsubscribe/"+d.ID+">"; got != want {
			t.Errorf("List-Unsubscribe %q, want %q", got, want)
		}
		if got, want := m.Header.Get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"; got != want {
			t.Errorf("List-Unsubscribe-Post %q, want %q", got, want)
		}
		text, html := parts(t, m)
		if !strings.Contains(html, "Hi Ann, Acme (admin)") || !strings.Contains(text, "Hi Ann, Acme (admin)") {
			t.Errorf("parts do not both carry the rendered body:\ntext: %s\nhtml: %s", text, html)
		}
		if strings.Contains(html, `href="https://shop.example.com`) {
			t.Errorf("link was not rewritten: %s", html)
		}
		click := regexp.MustCompile(`https://herald\.test/t/c/([A-Za-z0-9_-]+)`).FindStringSubmatch(html)
		open := regexp.MustCompile(`https://herald\.test/t/o/([A-Za-z0-9_-]+)`).FindStringSubmatch(html)
		if click == nil || open == nil {
			t.Fatalf("no tracked link or open pixel in %s", html)
		}

		if err := svc.Opened(ctx, open[1]); err != nil {
			t.Fatalf("opened: %v", err)
		}
		b.waitStatus(t, d.ID, herald.StatusOpened)
		link, err := svc.Clicked(ctx, click[1])
		if err != nil {
			t.Fatalf("clicked: %v", err)
		}
		if want := "https://shop.example.com/orders/A-17"; link != want {
			t.Errorf("click goes to %q, want %q", link, want)
		}
		b.waitStatus(t, d.ID, herald.StatusClicked)
		if err := svc.Unsubscribe(ctx, d.ID); err != nil {
			t.Fatalf("unsubscribe: %v", err)
		}
		if got, want := b.metrics(t, d.ID), []string{"queued", "sent", "opened", "clicked", "unsubscribed"}; !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		p, _ := b.store.Person(ctx, b.ws.ID, ref("ann"))
		if got := string(p.Attributes["unsubscribed"]); got != "true" {
			t.Errorf("unsubscribed = %s, want true", got)
		}
		acts := b.activity(t, "ann")
		for _, want := range []string{"sent_email", "opened_email", "clicked_email", "unsubscribed_email", "attribute_change"} {
			if !slices.Contains(acts, want) {
				t.Errorf("activity %v lacks %s", acts, want)
			}
		}
		if err := svc.Opened(ctx, "forged"); err == nil {
			t.Error("a forged open token was accepted")
		}
	})
}

func TestMissingVariableFailsTheDeliveryNamingIt(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		svc, b := setup(t, dsn)
		b.person(t, "bob", `{"email":"bob@example.com"}`)
		d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("bob"), Channel: herald.ChannelEmail,
			Fields: map[string]string{"subject": "Hello", "body": "Hi {{ customer.nickname }}"}})
		var le *liquid.Error
		if !errors.As(err, &le) || le.Variable != "customer.nickname" || le.Field != "body" {
			t.Fatalf("err = %v, want a missing-variable error on body naming customer.nickname", err)
		}
		if d == nil || d.Status != herald.StatusFailed || !strings.Contains(d.Reason, "customer.nickname") {
			t.Fatalf("delivery = %+v, want failed naming customer.nickname", d)
		}
		stored := b.waitStatus(t, d.ID, herald.StatusFailed)
		if !strings.Contains(stored.Reason, "customer.nickname") {
			t.Errorf("stored reason %q does not name the variable", stored.Reason)
		}
		if got, want := b.metrics(t, d.ID), []string{"queued", "failed"}; !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		if !slices.Contains(b.activity(t, "bob"), "failed_email") {
			t.Error("no failed_email activity")
		}
		time.Sleep(100 * time.Millisecond)
		if n := b.smtp.Count(); n != 0 {
			t.Errorf("%d emails sent for a failed delivery", n)
		}
	})
}

func TestUnsubscribedPeopleGetNoMarketingMessages(t *testing.T) {
	t.Parallel()
	svc, b := setup(t, "")
	b.person(t, "cat", `{"email":"cat@example.com","unsubscribed":true}`)
	for _, tc := range []struct {
		name          string
		transactional bool
		override      *bool
		want          string
	}{
		{"marketing is suppressed", false, nil, herald.StatusSuppressed},
		{"transactional is sent", true, nil, herald.StatusSent},
		{"transactional opting out is suppressed", true, ptr(false), herald.StatusSuppressed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("cat"), Channel: herald.ChannelEmail,
				Transactional: tc.transactional, SendToUnsubscribed: tc.override, Fields: map[string]string{"subject": "s", "body": "b"}})
			if err != nil {
				t.Fatal(err)
			}
			b.waitStatus(t, d.ID, tc.want)
		})
	}
	if n := b.smtp.Count(); n != 1 {
		t.Errorf("%d emails arrived, want 1", n)
	}
}

func TestSMTPRefusalsBounceOrRetry(t *testing.T) {
	t.Parallel()
	svc, b := setup(t, "")
	b.smtp.Refuse = func(to string) error {
		switch to {
		case "gone@example.com":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "full@example.com":
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
		}
		return nil
	}
	for _, tc := range []struct {
		name, to, status, reason string
	}{
		{"a permanent refusal bounces", "gone@example.com", herald.StatusBounced, "550"},
		{"a temporary refusal is retried", "full@example.com", herald.StatusAttempted, "452"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.person(t, tc.to, `{"email":"`+tc.to+`"}`)
			d, err := svc.Send(context.Background(), herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref(tc.to), Fields: map[string]string{"subject": "s", "body": "b"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.waitStatus(t, d.ID, tc.status); !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("reason %q lacks %s", got.Reason, tc.reason)
			}
		})
	}
	if !slices.Contains(b.activity(t, "gone@example.com"), "bounced_email") {
		t.Error("no bounced_email activity")
	}
}

func TestSendManyRecordsEachRequestsOutcome(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		svc, b := setup(t, dsn)
		b.person(t, "kim", `{"email":"kim@example.com","first_name":"Kim"}`)
		msg := func(body string) map[string]string { return map[string]string{"subject": "s", "body": body} }
		ds, errs, err := svc.SendMany(context.Background(), []herald.SendRequest{
			{WorkspaceID: b.ws.ID, Person: ref("kim"), Fields: msg("Hi {{ customer.first_name }}")},
			{WorkspaceID: b.ws.ID, Person: ref("kim"), Fields: msg("Hi {{ customer.nickname }}")},
			{WorkspaceID: b.ws.ID, Person: ref("nobody"), Fields: msg("Hi")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if errs[0] != nil || ds[0] == nil {
			t.Errorf("first: %v", errs[0])
		} else {
			b.waitStatus(t, ds[0].ID, herald.StatusSent)
		}
		if ds[1] == nil || ds[1].Status != herald.StatusFailed || !strings.Contains(fmt.Sprint(errs[1]), "customer.nickname") {
			t.Errorf("second: %+v, %v; want a failed delivery naming customer.nickname", ds[1], errs[1])
		}
		if ds[2] != nil || herald.AsError(errs[2]).Field != "identifiers" {
			t.Errorf("third: %+v, %v; want no delivery and an error on identifiers", ds[2], errs[2])
		}
	})
}
