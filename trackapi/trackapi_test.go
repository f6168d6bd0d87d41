package trackapi_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/trackapi"
)

// setup serves the Track API over a real store on each engine.
func setup(t *testing.T, fn func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace)) {
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, ws := testdb.OpenStore(t, dsn, herald.Workspace{SiteID: "site", TrackAPIKey: "key"})
		if _, err := s.CreateObjectType(context.Background(), ws.ID, herald.ObjectType{Name: "Accounts", SingularName: "Account"}); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		trackapi.New(s, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		fn(t, srv, s, ws)
	})
}

var (
	stdAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte("site:key"))
	// "site:key?>" encodes differently in the two alphabets: the URL-safe form uses - and _.
	urlSafeAuth = "Basic " + base64.URLEncoding.EncodeToString([]byte("site:key"))
)

type scenario struct {
	name         string
	method, url  string
	body         string
	auth         string
	wantStatus   int
	wantContains []string
}

func run(t *testing.T, srv *httptest.Server, tests []scenario) {
	t.Helper()
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.url, strings.NewReader(tt.body))
		auth := tt.auth
		if auth == "" {
			auth = stdAuth
		}
		if auth != "none" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status = %d, want %d; body %s", tt.name, resp.StatusCode, tt.wantStatus, body)
			continue
		}
		for _, want := range tt.wantContains {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s: body %s does not contain %s", tt.name, body, want)
			}
		}
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace) {
		run(t, srv, []scenario{
			{name: "standard base64", method: "PUT", url: "/api/v1/customers/1", body: `{}`, wantStatus: 200, wantContains: []string{`{}`}},
			{name: "url-safe base64", method: "PUT", url: "/api/v1/customers/1", body: `{}`, auth: urlSafeAuth, wantStatus: 200},
			{name: "unpadded base64", method: "PUT", url: "/api/v1/customers/1", body: `{}`, auth: strings.TrimRight(stdAuth, "="), wantStatus: 200},
			{name: "wrong key", method: "PUT", url: "/api/v1/customers/1", body: `{}`, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("site:nope")), wantStatus: 401, wantContains: []string{"Unauthorized"}},
			{name: "unknown site", method: "POST", url: "/api/v2/batch", body: `{"batch":[]}`, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("other:key")), wantStatus: 401},
			{name: "no credentials", method: "POST", url: "/api/v2/entity", body: `{}`, auth: "none", wantStatus: 401},
			{name: "bearer instead of basic", method: "POST", url: "/api/v2/entity", body: `{}`, auth: "Bearer key", wantStatus: 401},
			{name: "region", method: "GET", url: "/api/v1/accounts/region", wantStatus: 200, wantContains: []string{`"region":"us"`, `"environment_id":1`}},
		})
	})
}

func TestV1(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace) {
		run(t, srv, []scenario{
			{name: "identify with relationships", method: "PUT", url: "/api/v1/customers/42",
				body: `{"email":"ann@example.com","plan":"pro","cio_relationships":{"action":"add_relationships","relationships":[{"identifiers":{"object_type_id":"1","object_id":"acc1"},"relationship_attributes":{"role":"admin"}}]}}`, wantStatus: 200},
			{name: "identify by email path", method: "PUT", url: "/api/v1/customers/ann@example.com", body: `{"city":"Oslo"}`, wantStatus: 200},
			{name: "event", method: "POST", url: "/api/v1/customers/42/events", body: `{"name":"purchase","data":{"amount":10},"id":"01J"}`, wantStatus: 200},
			{name: "anonymous event", method: "POST", url: "/api/v1/events", body: `{"name":"viewed","anonymous_id":"a1","type":"page"}`, wantStatus: 200},
			{name: "device", method: "PUT", url: "/api/v1/customers/42/devices", body: `{"device":{"id":"tok","platform":"ios","last_used":"1700000000"}}`, wantStatus: 200},
			{name: "delete device", method: "DELETE", url: "/api/v1/customers/42/devices/tok", wantStatus: 200},
			{name: "delete relationships", method: "PUT", url: "/api/v1/customers/42",
				body: `{"cio_relationships":{"action":"delete_relationships","relationships":[{"identifiers":{"object_type_id":1,"object_id":"acc1"}}]}}`, wantStatus: 200},
			{name: "merge", method: "POST", url: "/api/v1/merge_customers", body: `{"primary":{"id":"42"},"secondary":{"email":"ann@example.com"}}`, wantStatus: 400, wantContains: []string{`"error"`, "same person"}},
			{name: "merge with two identifiers", method: "POST", url: "/api/v1/merge_customers", body: `{"primary":{"id":"42","email":"x@y.z"},"secondary":{"id":"7"}}`, wantStatus: 400, wantContains: []string{`{"meta":{"error":"primary: give exactly one identifier`}},
			{name: "delete", method: "DELETE", url: "/api/v1/customers/42", wantStatus: 200},
			// Bad input.
			{name: "malformed JSON", method: "PUT", url: "/api/v1/customers/1", body: `{"a":`, wantStatus: 400, wantContains: []string{`{"meta":{"errors":["body: is not valid JSON`}},
			{name: "body not an object", method: "PUT", url: "/api/v1/customers/1", body: `[1]`, wantStatus: 400, wantContains: []string{"must be a JSON object"}},
			{name: "id too long", method: "PUT", url: "/api/v1/customers/" + strings.Repeat("x", 151), body: `{}`, wantStatus: 400, wantContains: []string{"identifiers.id", "at most 150"}},
			{name: "value too long", method: "PUT", url: "/api/v1/customers/1", body: `{"bio":"` + strings.Repeat("x", 1001) + `"}`, wantStatus: 400, wantContains: []string{"attributes.bio", "at most 1000"}},
			{name: "reserved name", method: "PUT", url: "/api/v1/customers/1", body: `{"_relationship":"x"}`, wantStatus: 400, wantContains: []string{"reserved"}},
			{name: "event without name", method: "POST", url: "/api/v1/customers/1/events", body: `{"data":{}}`, wantStatus: 400, wantContains: []string{"name: is required"}},
			{name: "event data not an object", method: "POST", url: "/api/v1/customers/1/events", body: `{"name":"x","data":[1]}`, wantStatus: 400, wantContains: []string{"data: must be a JSON object"}},
			{name: "anonymous event without id is kept, as Customer.io's Go client sends it", method: "POST", url: "/api/v1/events", body: `{"name":"invite","data":{"recipient":"x@example.com"}}`, wantStatus: 200},
			{name: "timestamp in milliseconds", method: "PUT", url: "/api/v1/customers/1", body: `{"_timestamp":1700000000000}`, wantStatus: 400, wantContains: []string{"looks like milliseconds"}},
			{name: "device platform", method: "PUT", url: "/api/v1/customers/1/devices", body: `{"device":{"id":"t","platform":"symbian"}}`, wantStatus: 400, wantContains: []string{"device.platform"}},
			{name: "unknown object type in relationship", method: "PUT", url: "/api/v1/customers/1",
				body: `{"cio_relationships":{"action":"add_relationships","relationships":[{"identifiers":{"object_type_id":"9","object_id":"x"}}]}}`, wantStatus: 400, wantContains: []string{"object type 9 does not exist"}},
			{name: "oversized body", method: "PUT", url: "/api/v1/customers/1", body: `{"a":"` + strings.Repeat("x", trackapi.MaxV1Bytes) + `"}`, wantStatus: 413},
		})
		p, err := s.Person(context.Background(), ws.ID, herald.PersonRef{Kind: herald.ByID, Value: "1"})
		if herald.ErrorCode(err) != herald.NotFound {
			t.Errorf("refused requests created person 1: %+v %v", p, err)
		}
	})
}

func TestV2(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace) {
		run(t, srv, []scenario{
			{name: "object identify", method: "POST", url: "/api/v2/entity", wantStatus: 200,
				body: `{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"acme"},"attributes":{"name":"Acme"},"cio_relationships":[{"identifiers":{"id":"42"},"relationship_attributes":{"role":"admin"}}]}`},
			{name: "integer type id", method: "POST", url: "/api/v2/entity", wantStatus: 200,
				body: `{"type":"object","action":"identify","identifiers":{"object_type_id":1,"object_id":"beta"}}`},
			{name: "person ops", method: "POST", url: "/api/v2/batch", wantStatus: 200, body: `{"batch":[
				{"type":"person","action":"identify","identifiers":{"id":"42"},"attributes":{"plan":"pro"}},
				{"type":"person","action":"event","identifiers":{"id":"42"},"name":"login","id":"ev1","timestamp":1700000000,"attributes":{"ip":"x"}},
				{"type":"person","action":"page","identifiers":{"id":"42"},"name":"/pricing"},
				{"type":"person","action":"screen","identifiers":{"id":"42"},"name":"home"},
				{"type":"person","action":"add_relationships","identifiers":{"id":"42"},"cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"beta"}}]},
				{"type":"person","action":"delete_relationships","identifiers":{"id":"42"},"cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"beta"}}]},
				{"type":"person","action":"add_device","identifiers":{"id":"42"},"device":{"token":"t1","platform":"android"}},
				{"type":"person","action":"delete_device","identifiers":{"id":"42"},"device":{"token":"t1"}},
				{"type":"person","action":"identify","identifiers":{"email":"b@example.com"}},
				{"type":"person","action":"merge","primary":{"id":"42"},"secondary":{"email":"b@example.com"}},
				{"type":"object","action":"identify_anonymous","identifiers":{"object_type_id":"1","object_id":"gamma"},"cio_relationships":[{"identifiers":{"anonymous_id":"anon"}}]},
				{"type":"object","action":"add_relationships","identifiers":{"object_type_id":"1","object_id":"gamma"},"cio_relationships":[{"identifiers":{"email":"c@example.com"}}]},
				{"type":"object","action":"delete_relationships","identifiers":{"object_type_id":"1","object_id":"gamma"},"cio_relationships":[{"identifiers":{"email":"c@example.com"}}]},
				{"type":"object","action":"delete","identifiers":{"object_type_id":"1","object_id":"gamma"}},
				{"type":"person","action":"suppress","identifiers":{"email":"c@example.com"}},
				{"type":"person","action":"unsuppress","identifiers":{"email":"c@example.com"}},
				{"type":"person","action":"delete","identifiers":{"email":"nobody@example.com"}}]}`},
			{name: "batch with invalid ops applies the rest", method: "POST", url: "/api/v2/batch", wantStatus: 207, body: `{"batch":[
				{"type":"person","action":"identify","identifiers":{"id":"ok"}},
				{"type":"thing","action":"identify"},
				{"type":"person","action":"fly","identifiers":{"id":"1"}},
				{"type":"person","action":"identify","identifiers":{"id":"1","email":"a@b.c"}},
				{"type":"person","action":"identify","identifiers":{}},
				{"type":"object","action":"identify","identifiers":{"object_type_id":"7","object_id":"x"}},
				{"type":"object","action":"identify","identifiers":{"object_type_id":"one","object_id":"x"}},
				{"type":"object","action":"identify","identifiers":{"cio_object_id":"obmissing"},"attributes":{"a":1}},
				{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"x"},"attributes":{"object_id":"y"}},
				"not an object",
				{"type":"person","action":"identify","identifiers":{"id":"ok2"}}]}`,
				wantContains: []string{
					`{"batch_index":1,"reason":"invalid","field":"type"`,
					`{"batch_index":2,"reason":"invalid","field":"action"`,
					`{"batch_index":3,"reason":"invalid","field":"identifiers","message":"give exactly one identifier`,
					`{"batch_index":4,"reason":"required","field":"identifiers"`,
					`{"batch_index":5,"reason":"not_found","field":"identifiers.object_type_id","message":"object type 7 does not exist`,
					`{"batch_index":6,"reason":"invalid","field":"identifiers.object_type_id"`,
					`{"batch_index":7,"reason":"not_found","field":"identifiers.cio_object_id"`,
					`{"batch_index":8,"reason":"reserved","field":"attributes.object_id"`,
					`{"batch_index":9,"reason":"invalid"`,
				}},
			{name: "malformed batch", method: "POST", url: "/api/v2/batch", body: `{"batch":[`, wantStatus: 400, wantContains: []string{`"field":"body"`}},
			{name: "batch missing", method: "POST", url: "/api/v2/batch", body: `{}`, wantStatus: 400, wantContains: []string{`"field":"batch"`}},
			{name: "entity over 32 KB", method: "POST", url: "/api/v2/entity", wantStatus: 413,
				body: `{"type":"person","action":"identify","identifiers":{"id":"1"},"attributes":{"a":"` + strings.Repeat("x", 33000) + `"}}`},
			{name: "batch over 500 KB", method: "POST", url: "/api/v2/batch", wantStatus: 413,
				body: `{"batch":[` + strings.Repeat(`{"type":"person","action":"identify","identifiers":{"id":"1"}},`, 9000) + `{}]}`},
			{name: "batch op over 32 KB", method: "POST", url: "/api/v2/batch", wantStatus: 207,
				body:         `{"batch":[{"type":"person","action":"identify","identifiers":{"id":"1"},"attributes":{"a":"` + strings.Repeat("x", 33000) + `"}}]}`,
				wantContains: []string{`"batch_index":0,"reason":"too_large"`}},
			{name: "too many attributes", method: "POST", url: "/api/v2/entity", wantStatus: 400, body: manyAttrs(301),
				wantContains: []string{`"reason":"too_many","field":"attributes"`}},
			{name: "delivery metric of an unknown delivery", method: "POST", url: "/api/v2/entity", wantStatus: 400,
				body: `{"type":"delivery","action":"event","identifiers":{"id":"d1"},"name":"opened"}`, wantContains: []string{`"reason":"not_found","field":"delivery_id"`}},
		})
		for _, id := range []string{"ok", "ok2"} {
			if _, err := s.Person(context.Background(), ws.ID, herald.PersonRef{Kind: herald.ByID, Value: id}); err != nil {
				t.Errorf("valid op %q of a 207 batch was not applied: %v", id, err)
			}
		}
		if _, err := s.Object(context.Background(), ws.ID, herald.ObjectRef{TypeID: 1, ObjectID: "x"}); herald.ErrorCode(err) != herald.NotFound {
			t.Errorf("refused object identify created the object: %v", err)
		}
	})
}

func manyAttrs(n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"person","action":"identify","identifiers":{"id":"1"},"attributes":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"a` + strings.Repeat("b", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + `":1`)
	}
	b.WriteString("}}")
	return b.String()
}
