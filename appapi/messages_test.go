package appapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/appapi"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/liquid"
)

func TestTransactionalSendsTemplatesSnippetsAndPreview(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, ws := testdb.OpenStore(t, dsn, herald.Workspace{SiteID: "site", AppAPIKey: "app"})
		smtp := smtptest.Start(t)
		cfg, err := email.ParseURL(smtp.URL(), "noreply@herald.test")
		if err != nil {
			t.Fatal(err)
		}
		sender, err := email.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		engine := liquid.New(liquid.Options{})
		svc := delivery.New(s, engine, delivery.Channels{Email: sender}, delivery.Config{Poll: 20 * time.Millisecond}, log)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { svc.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		mux := http.NewServeMux()
		h := appapi.New(s, log)
		h.Messages, h.Templates = svc, engine
		h.Register(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		if _, err := s.CreateObjectType(context.Background(), ws.ID, herald.ObjectType{Name: "Accounts", SingularName: "Account"}); err != nil {
			t.Fatal(err)
		}
		errs, err := s.Apply(context.Background(), ws.ID, []herald.Op{&herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByID, Value: "ann"},
			Email: "ann@example.com", Attributes: herald.Attributes{"first_name": []byte(`"Ann"`)}},
			&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acme"}, Attributes: herald.Attributes{"name": []byte(`"Acme"`)},
				People: []herald.ObjectRelationship{{Person: herald.PersonRef{Kind: herald.ByID, Value: "ann"}, Attributes: herald.Attributes{"role": []byte(`"admin"`)}}}}})
		if err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatal(err, errs)
		}

		var firstDelivery string
		for _, tc := range []struct {
			name, method, url, body string
			wantStatus              int
			wantContains            []string
		}{
			{"create template", "POST", "/v1/transactional", `{"name":"receipt","type":"email","content":{"subject":"Receipt {{ trigger.order }}","body":"<p>{{ snippets.greeting }}, thanks for {{ trigger.order }}</p>"}}`,
				201, []string{`"id":1`, `"name":"receipt"`}},
			{"template with bad liquid", "POST", "/v1/transactional", `{"name":"bad","content":{"body":"{% if %}"}}`, 400, []string{`"field":"content.body`}},
			{"template with unknown field", "POST", "/v1/transactional", `{"name":"bad","type":"sms","content":{"subject":"x"}}`, 400, []string{`"field":"content.subject"`}},
			{"list templates", "GET", "/v1/transactional", "", 200, []string{`"name":"receipt"`}},
			{"get template by name", "GET", "/v1/transactional/receipt", "", 200, []string{`"id":1`}},
			{"snippet", "PUT", "/v1/snippets", `{"name":"greeting","value":"Hello {{ customer.first_name }}"}`, 200, []string{`"name":"greeting"`}},
			{"snippet with bad name", "PUT", "/v1/snippets", `{"name":"1x","value":"v"}`, 400, []string{`"field":"name"`}},
			{"list snippets", "GET", "/v1/snippets", "", 200, []string{`"value":"Hello {{ customer.first_name }}"`}},
			{"preview", "POST", "/v1/messages/preview", `{"transactional_message_id":"receipt","identifiers":{"id":"ann"},"message_data":{"order":"A-1"}}`,
				200, []string{`"subject":"Receipt A-1"`, `Hello Ann, thanks for A-1`}},
			{"preview against an object and an event", "POST", "/v1/messages/preview", `{"type":"in_app","identifiers":{"id":"ann"},
				"trigger_object":{"object_type_id":1,"object_id":"acme"},"event":{"name":"viewed","data":{"page":"/pricing"}},
				"content":{"body":"{{ trigger.account.name }} {{ customer._relationship.role }} {{ trigger.relationship.role }} {{ event_name }} {{ event.page }} {{ objects.accounts[0].relationship.role }}"}}`,
				200, []string{`"body":"Acme admin admin viewed /pricing admin"`}},
			{"preview against an unknown object", "POST", "/v1/messages/preview", `{"type":"in_app","identifiers":{"id":"ann"},"trigger_object":{"object_type_id":1,"object_id":"nope"},"content":{"body":"x"}}`,
				404, []string{`"field":"trigger_object`}},
			{"preview of a push to a custom device", "POST", "/v1/messages/preview", `{"type":"push","identifiers":{"id":"ann"},"title":"Hi {{ customer.first_name }}",
				"message":"New listing","link":"https://example.com/l","custom_device":{"token":"tok1","platform":"ios"},"custom_data":{"listing":"l1"}}`,
				200, []string{`"Title":"Hi Ann"`, `"Body":"New listing"`, `"Tokens":["tok1"]`, `"Data":{"listing":"l1"}`}},
			{"preview of an sms", "POST", "/v1/messages/preview", `{"type":"sms","identifiers":{"id":"ann"},"to":"+15551234567","body":"Code {{ trigger.code }}","message_data":{"code":7}}`,
				200, []string{`"To":"+15551234567"`, `"Body":"Code 7"`}},
			{"preview of a missing variable", "POST", "/v1/messages/preview", `{"type":"email","identifiers":{"id":"ann"},"content":{"subject":"s","body":"{{ customer.nickname }}"}}`,
				400, []string{`"field":"body"`, `customer.nickname`}},
			{"preview of nobody", "POST", "/v1/messages/preview", `{"transactional_message_id":1,"identifiers":{"id":"zed"}}`, 404, []string{`"field":"identifiers"`}},
			{"send by template", "POST", "/v1/send/email", `{"transactional_message_id":1,"to":"ann@example.com","identifiers":{"id":"ann"},"message_data":{"order":"A-2"}}`,
				200, []string{`"delivery_id":"`, `"queued_at":`}},
			{"send inline", "POST", "/v1/send/email", `{"identifiers":{"email":"new@example.com"},"to":"new@example.com","from":"shop@herald.test","subject":"Welcome","body":"<b>Hi</b>","headers":{"X-Campaign":"welcome"}}`,
				200, []string{`"delivery_id":"`}},
			{"send without identifiers", "POST", "/v1/send/email", `{"to":"a@example.com","subject":"s","body":"b"}`, 400, []string{`"field":"identifiers"`}},
			{"send with two identifiers", "POST", "/v1/send/email", `{"identifiers":{"id":"ann","email":"ann@example.com"},"subject":"s","body":"b"}`, 400, []string{`"field":"identifiers"`}},
			{"send with bcc", "POST", "/v1/send/email", `{"identifiers":{"id":"ann"},"bcc":"x@example.com","subject":"s","body":"b"}`, 501, []string{`"field":"bcc"`}},
			{"send a draft", "POST", "/v1/send/email", `{"identifiers":{"id":"ann"},"queue_draft":true,"subject":"s","body":"b"}`, 501, []string{`"field":"queue_draft"`}},
			{"send of an unknown template", "POST", "/v1/send/email", `{"transactional_message_id":99,"identifiers":{"id":"ann"}}`, 404, []string{`"field":"transactional_message_id"`}},
			{"send an sms template as email", "POST", "/v1/send/sms", `{"transactional_message_id":1,"identifiers":{"id":"ann"}}`, 400, []string{`is a email message, not sms`}},
			{"send with a missing variable", "POST", "/v1/send/email", `{"identifiers":{"id":"ann"},"subject":"s","body":"Hi {{ customer.nickname }}"}`,
				400, []string{`"delivery_id":"`, `customer.nickname`}},
			{"send in-app", "POST", "/v1/send/in_app", `{"identifiers":{"id":"ann"},"title":"Hi {{ customer.first_name }}","body":"<p>x</p>"}`, 200, []string{`"delivery_id":"`}},
			{"channel settings", "PUT", "/v1/settings/channels/email", `{"from":"Shop <shop@herald.test>"}`, 200, []string{`"channel":"email"`}},
			{"bad channel settings", "PUT", "/v1/settings/channels/fax", `{}`, 400, []string{`"field":"channel"`}},
			{"sms settings", "PUT", "/v1/settings/channels/sms", `{"account_sid":"AC1","auth_token":"tok-secret","url":"https://u:pw-secret@sms.example.com"}`, 200, nil},
			{"read channel settings", "GET", "/v1/settings/channels", "", 200, []string{`"email":{"from":"Shop \u003cshop@herald.test\u003e"}`,
				`"auth_token":"********"`, `u:%2A%2A%2A%2A%2A%2A%2A%2A@sms.example.com`}},
			{"inbox token", "POST", "/v1/customers/ann/inbox_token", "", 200, []string{`"token":"` + herald.InboxToken(ws, "ann") + `"`}},
			{"delete snippet", "DELETE", "/v1/snippets/greeting", "", 204, nil},
			{"delete missing snippet", "DELETE", "/v1/snippets/greeting", "", 404, []string{`"field":"name"`}},
		} {
			st, body := call(t, srv, tc.method, tc.url, tc.body, "app")
			if st != tc.wantStatus {
				t.Errorf("%s: status %d, want %d: %s", tc.name, st, tc.wantStatus, body)
				continue
			}
			for _, want := range tc.wantContains {
				if !strings.Contains(body, want) {
					t.Errorf("%s: %s lacks %s", tc.name, body, want)
				}
			}
			if tc.name == "send by template" {
				var out struct {
					DeliveryID string `json:"delivery_id"`
				}
				json.Unmarshal([]byte(body), &out)
				firstDelivery = out.DeliveryID
			}
		}
		if _, body := call(t, srv, "GET", "/v1/settings/channels", "", "app"); strings.Contains(body, "secret") {
			t.Errorf("channel settings show credentials: %s", body)
		}
		waitCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		if n := smtp.Wait(waitCtx, 2); n != 2 {
			t.Fatalf("%d emails arrived, want 2", n)
		}
		var sawReceipt, sawHeader bool
		for _, m := range smtp.Messages() {
			sawReceipt = sawReceipt || strings.Contains(string(m.Data), "Subject: Receipt A-2")
			sawHeader = sawHeader || strings.Contains(string(m.Data), "X-Campaign: welcome")
		}
		if !sawReceipt || !sawHeader {
			t.Errorf("the template's subject or the inline header did not arrive: %v %v", sawReceipt, sawHeader)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, body := call(t, srv, "GET", "/v1/messages/"+firstDelivery, "", "app")
			if strings.Contains(body, `"status":"sent"`) {
				if !strings.Contains(body, `"metric":"queued"`) || !strings.Contains(body, `"transactional_message_id":1`) {
					t.Errorf("message: %s", body)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("message never sent: %s", body)
			}
		}
		st, body := call(t, srv, "GET", "/v1/customers/ann/messages", "", "app")
		if st != 200 || strings.Count(body, `"customer_id":"ann"`) != 3 || !strings.Contains(body, firstDelivery) || !strings.Contains(body, `"status":"failed"`) {
			t.Errorf("customer messages: %d %s", st, body)
		}
	})
}
