package pipelines_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/pipelines"
	"github.com/heraldhq/herald/store"
)

func setup(t *testing.T, fn func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace)) {
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, ws := testdb.OpenStore(t, dsn, herald.Workspace{WriteKey: "wk"})
		for _, name := range []string{"Companies", "Events"} {
			if _, err := s.CreateObjectType(context.Background(), ws.ID, herald.ObjectType{Name: name}); err != nil {
				t.Fatal(err)
			}
		}
		mux := http.NewServeMux()
		pipelines.New(s, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		fn(t, srv, s, ws)
	})
}

var auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("wk:"))

func TestCalls(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace) {
		ctx := context.Background()
		tests := []struct {
			name, path, body string
			strict           bool
			auth             string
			wantStatus       int
			wantContains     string
		}{
			{name: "identify", path: "/v1/identify", body: `{"userId":"u1","anonymousId":"a1","traits":{"email":"u1@example.com","plan":"pro","createdAt":"2024-01-02T03:04:05Z"}}`, wantStatus: 200},
			{name: "identify by email only", path: "/v1/identify", body: `{"anonymousId":"a2","traits":{"email":"e2@example.com"}}`, wantStatus: 200},
			{name: "track", path: "/v1/track", body: `{"userId":"u1","event":"Purchased","properties":{"amount":12},"messageId":"m1","timestamp":"2024-05-01T00:00:00.000Z"}`, wantStatus: 200},
			{name: "anonymous page", path: "/v1/page", body: `{"anonymousId":"a9","name":"Pricing","properties":{"url":"https://x/pricing"}}`, wantStatus: 200},
			{name: "screen", path: "/v1/screen", body: `{"userId":"u1","name":"Home"}`, wantStatus: 200},
			{name: "group with relationship attributes", path: "/v1/group", body: `{"userId":"u1","groupId":"acme","traits":{"name":"Acme","object_type_id":"1","relationshipAttributes":{"role":"admin"}}}`, wantStatus: 200},
			{name: "group into type 2 by objectTypeId", path: "/v1/group", body: `{"userId":"u1","groupId":"madison","traits":{"objectTypeId":2,"city":"Madison WI"}}`, wantStatus: 200},
			{name: "relationship deleted", path: "/v1/track", body: `{"userId":"u1","event":"Relationship Deleted","properties":{"objectId":"madison","objectTypeId":2}}`, wantStatus: 200},
			{name: "device", path: "/v1/track", body: `{"userId":"u1","event":"Device Created or Updated","context":{"device":{"token":"tok1","type":"ios"}}}`, wantStatus: 200},
			{name: "alias adopts an anonymous id", path: "/v1/alias", body: `{"userId":"u1","previousId":"a9"}`, wantStatus: 200},
			{name: "batch", path: "/v1/batch", body: `{"batch":[{"type":"identify","userId":"u2","traits":{"name":"Two"}},{"type":"track","userId":"u2","event":"Signed Up"},{"type":"group","userId":"u2","groupId":"acme","traits":{"relationshipAttributes":{"role":"member"}}}]}`, wantStatus: 200},
			// Bad input: permissive answers 200, strict names the problem.
			{name: "permissive hides errors", path: "/v1/identify", body: `{"traits":{"plan":"x"}}`, wantStatus: 200, wantContains: "{}"},
			{name: "strict identify without ids", path: "/v1/identify", body: `{"traits":{"plan":"x"}}`, strict: true, wantStatus: 400, wantContains: `"field":"userId"`},
			{name: "strict track without event", path: "/v1/track", body: `{"userId":"u1"}`, strict: true, wantStatus: 400, wantContains: `"field":"event"`},
			{name: "strict unknown object type", path: "/v1/group", body: `{"userId":"u1","groupId":"g","traits":{"object_type_id":"7"}}`, strict: true, wantStatus: 400, wantContains: "object type 7 does not exist"},
			{name: "strict bad timestamp", path: "/v1/track", body: `{"userId":"u1","event":"x","timestamp":"yesterday"}`, strict: true, wantStatus: 400, wantContains: `"field":"timestamp"`},
			{name: "strict batch names the call", path: "/v1/batch", body: `{"batch":[{"type":"track","userId":"u3","event":"ok"},{"type":"nope"}]}`, strict: true, wantStatus: 400, wantContains: `"batch_index":1`},
			{name: "strict oversized call", path: "/v1/track", body: `{"userId":"u1","event":"x","properties":{"a":"` + strings.Repeat("x", 33000) + `"}}`, strict: true, wantStatus: 413},
			{name: "strict wrong key", path: "/v1/track", body: `{}`, strict: true, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("nope:")), wantStatus: 401},
			{name: "permissive answers 200 even to a missing key", path: "/v1/track", body: `{}`, auth: "none", wantStatus: 200},
		}
		for _, tt := range tests {
			req, _ := http.NewRequest("POST", srv.URL+tt.path, strings.NewReader(tt.body))
			switch tt.auth {
			case "":
				req.Header.Set("Authorization", auth)
			case "none":
			default:
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.strict {
				req.Header.Set("X-Strict-Mode", "1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantContains) {
				t.Errorf("%s: %d %s, want %d containing %q", tt.name, resp.StatusCode, b, tt.wantStatus, tt.wantContains)
			}
		}

		u1, err := s.Person(ctx, ws.ID, herald.PersonRef{Kind: herald.ByID, Value: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if m := u1.Attributes.StringMap(); m["email"] != "u1@example.com" || m["created_at"] != "1704164645" || u1.AnonymousID != "a9" {
			t.Errorf("u1 = %v (anonymous id %q)", m, u1.AnonymousID)
		}
		rels, _, _ := s.PersonObjects(ctx, u1.PK, herald.Page{})
		if len(rels) != 1 || rels[0].Object.ObjectID != "acme" || rels[0].Attributes.StringMap()["role"] != "admin" {
			t.Errorf("u1 relationships = %+v", rels)
		}
		acme, _ := s.Object(ctx, ws.ID, herald.ObjectRef{TypeID: 1, ObjectID: "acme"})
		if acme == nil || acme.Attributes.StringMap()["name"] != "Acme" || len(acme.Attributes) != 1 {
			t.Errorf("acme = %+v", acme)
		}
		if ds, _ := s.Devices(ctx, u1.PK); len(ds) != 1 || ds[0].Token != "tok1" {
			t.Errorf("devices = %+v", ds)
		}
		acts, _, _ := s.Activities(ctx, ws.ID, herald.ActivityFilter{PersonPK: u1.PK, Type: herald.ActAnonymousEventMerged}, herald.Page{})
		var merged struct {
			AnonymousID string `json:"anonymous_id"`
			Events      int    `json:"events"`
		}
		if len(acts) == 1 {
			json.Unmarshal(acts[0].Data, &merged)
		}
		if merged.AnonymousID != "a9" || merged.Events != 1 {
			t.Errorf("alias did not adopt the anonymous page view: %+v", acts)
		}
		if _, err := s.Person(ctx, ws.ID, herald.PersonRef{Kind: herald.ByEmail, Value: "e2@example.com"}); err != nil {
			t.Errorf("email-only identify: %v", err)
		}
		if _, err := s.Person(ctx, ws.ID, herald.PersonRef{Kind: herald.ByID, Value: "u3"}); err != nil {
			t.Errorf("valid call of a strict batch with an invalid one: %v", err)
		}
	})
}

// FuzzParseCall: the call parser never panics, and what it accepts is valid.
func FuzzParseCall(f *testing.F) {
	for _, seed := range []string{
		`{"userId":"u1","traits":{"email":"a@b.co","createdAt":"2024-01-02T03:04:05Z"}}`,
		`{"anonymousId":"a","groupId":7,"traits":{"objectTypeId":"2","relationshipAttributes":{"r":1}}}`,
		`{"userId":"cio_abc","event":"Relationship Deleted","properties":{"objectId":"x"}}`,
		`{"userId":1,"previousId":2}`, `{"timestamp":12}`, `[]`,
	} {
		for _, kind := range []string{"identify", "track", "group", "alias", "page"} {
			f.Add(kind, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, kind string, raw []byte) {
		ops, err := pipelines.ParseCall(kind, raw, nil)
		if err != nil {
			return
		}
		for _, op := range ops {
			if err := op.Validate(); err != nil {
				t.Errorf("accepted op is invalid: %v", err)
			}
		}
	})
}
