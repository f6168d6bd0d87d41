package delivery_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
)

func TestWorkspaceSettingsRetentionAndScheduling(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		svc, b := setup(t, dsn)
		ctx := context.Background()
		b.person(t, "ivy", `{"email":"ivy@example.com"}`)
		if err := b.store.PutChannelSettings(ctx, b.ws.ID, herald.ChannelEmail, json.RawMessage(`{"from":"Shop <shop@example.com>","reply_to":"help@example.com"}`)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond) // the service reads settings at most every 2s

		t.Run("workspace from and reply-to are the defaults", func(t *testing.T) {
			d, err := svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), Fields: map[string]string{"subject": "s1", "body": "b"}})
			if err != nil {
				t.Fatal(err)
			}
			b.waitStatus(t, d.ID, herald.StatusSent)
			var found bool
			for _, m := range b.smtp.Messages() {
				data := string(m.Data)
				if strings.Contains(data, "Subject: s1") {
					found = true
					if m.From != "shop@example.com" || !strings.Contains(data, "Reply-To: <help@example.com>") {
						t.Errorf("MAIL FROM %q, message:\n%s", m.From, data)
					}
				}
			}
			if !found {
				t.Error("the email did not arrive")
			}
		})
		t.Run("a layout wraps the body", func(t *testing.T) {
			d, err := svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), Fields: map[string]string{"subject": "s5",
				"layout": `<div class="brand">{{ content }}<footer>{{ customer.email }}</footer></div>`, "body": "<p>News</p>"}})
			if err != nil {
				t.Fatal(err)
			}
			var e herald.Email
			json.Unmarshal(b.waitStatus(t, d.ID, herald.StatusSent).Content, &e)
			if want := `<div class="brand"><p>News</p><footer>ivy@example.com</footer></div>`; e.HTML != want {
				t.Errorf("HTML %q, want %q", e.HTML, want)
			}
			_, err = svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), Fields: map[string]string{"subject": "s", "layout": "<div></div>", "body": "b"}})
			if herald.AsError(err).Field != "layout" {
				t.Errorf("a layout without {{ content }}: %v", err)
			}
		})
		t.Run("disable_message_retention forgets the content once sent", func(t *testing.T) {
			d, err := svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), DisableRetention: true,
				Fields: map[string]string{"subject": "s2", "body": "secret code 42"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.waitStatus(t, d.ID, herald.StatusSent); len(got.Content) != 0 {
				t.Errorf("content kept: %s", got.Content)
			}
		})
		t.Run("retained content is pruned after the retention period", func(t *testing.T) {
			d, err := svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), Fields: map[string]string{"subject": "s3", "body": "b"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.waitStatus(t, d.ID, herald.StatusSent); len(got.Content) == 0 {
				t.Fatal("content not kept while retained")
			}
			n, err := b.store.PruneDeliveryContent(ctx, time.Now().Unix()+1)
			if err != nil || n == 0 {
				t.Fatalf("pruned %d, %v", n, err)
			}
			if got, _ := b.store.Delivery(ctx, b.ws.ID, d.ID); len(got.Content) != 0 {
				t.Errorf("content after pruning: %s", got.Content)
			}
		})
		t.Run("send_at waits until it is due", func(t *testing.T) {
			at := time.Now().Add(2 * time.Second)
			d, err := svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), SendAt: at.Unix(),
				Fields: map[string]string{"subject": "s4", "body": "b"}})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			if got, _ := b.store.Delivery(ctx, b.ws.ID, d.ID); got.Status != herald.StatusQueued {
				t.Fatalf("status %q before send_at, want queued", got.Status)
			}
			b.waitStatus(t, d.ID, herald.StatusSent)
			if now := time.Now().Unix(); now < at.Unix() {
				t.Errorf("sent at %d, before send_at %d", now, at.Unix())
			}
		})
		t.Run("a channel without configuration fails with the reason", func(t *testing.T) {
			d, err := svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), Channel: herald.ChannelSMS,
				Fields: map[string]string{"to": "+15550001111", "body": "hi"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.waitStatus(t, d.ID, herald.StatusFailed); !strings.Contains(got.Reason, "sms channel is not configured") {
				t.Errorf("reason %q", got.Reason)
			}
		})
		t.Run("a push to a person without devices fails naming devices", func(t *testing.T) {
			d, err := svc.Send(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("ivy"), Channel: herald.ChannelPush,
				Fields: map[string]string{"title": "t"}})
			if herald.AsError(err).Field != "devices" || d == nil || d.Status != herald.StatusFailed {
				t.Errorf("err %v, delivery %+v; want a failed delivery naming devices", err, d)
			}
		})
	})
}
