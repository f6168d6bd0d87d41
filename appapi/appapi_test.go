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

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/appapi"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/store"
)

func setup(t *testing.T, fn func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace)) {
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s, ws := testdb.OpenStore(t, dsn, herald.Workspace{AppAPIKey: "app"})
		mux := http.NewServeMux()
		appapi.New(s, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		fn(t, srv, s, ws)
	})
}

func call(t *testing.T, srv *httptest.Server, method, url, body, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAppAPI(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace) {
		ctx := context.Background()
		if st, body := call(t, srv, "POST", "/v1/object_types", `{"name":"Accounts","singular_name":"Account"}`, "app"); st != 201 {
			t.Fatalf("create type: %d %s", st, body)
		}
		var ops []herald.Op
		for i, amount := range []int{500, 15000, 20000, 9000, 12000} {
			ops = append(ops, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acc" + string(rune('0'+i))},
				Attributes: herald.Attributes{"portfolio_amount": json.RawMessage(jsonNum(amount)), "account_type": json.RawMessage(`"brokerage"`)},
				People: []herald.ObjectRelationship{{Person: herald.PersonRef{Kind: herald.ByEmail, Value: "p" + string(rune('0'+i)) + "@example.com"},
					Attributes: herald.Attributes{"user_role": json.RawMessage(`"admin"`)}}}})
		}
		ops = append(ops, &herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByID, Value: "u1"}, Attributes: herald.Attributes{"email": json.RawMessage(`"u1@example.com"`), "plan": json.RawMessage(`"pro"`)}})
		errs, err := s.Apply(ctx, ws.ID, ops)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			if e != nil {
				t.Fatal(e)
			}
		}
		tests := []struct {
			name, method, url, body string
			key                     string
			wantStatus              int
			wantContains            []string
		}{
			{"list types", "GET", "/v1/object_types", "", "app", 200, []string{`{"types":[{"id":"1","name":"Accounts","singular_name":"Account","slug":"accounts","singular_slug":"account","enabled":true,"icon":""}]}`}},
			{"rename type", "PUT", "/v1/object_types/1", `{"icon":"bank"}`, "app", 200, []string{`"icon":"bank"`, `"id":"1"`}},
			{"type without name", "POST", "/v1/object_types", `{}`, "app", 400, []string{`"field":"name"`}},
			{"find objects gt", "POST", "/v1/objects", `{"object_type_id":"1","filter":{"and":[{"object_attribute":{"type_id":1,"field":"portfolio_amount","operator":"gt","value":"10000"}}]}}`, "app", 200,
				[]string{`"ids":["acc1","acc2","acc4"]`}},
			{"find objects not", "POST", "/v1/objects", `{"object_type_id":1,"filter":{"not":{"object_attribute":{"type_id":"1","field":"portfolio_amount","operator":"gte","value":10000}}}}`, "app", 200,
				[]string{`"ids":["acc0","acc3"]`}},
			{"find objects paged", "POST", "/v1/objects?limit=2", `{"object_type_id":"1","filter":{"object_attribute":{"type_id":1,"field":"account_type","operator":"eq","value":"brokerage"}}}`, "app", 200,
				[]string{`"ids":["acc0","acc1"]`, `"next":"`}},
			{"filter with bad operator names its path", "POST", "/v1/objects", `{"object_type_id":"1","filter":{"and":[{"object_attribute":{"type_id":1,"field":"x","operator":"eq","value":1}},{"object_attribute":{"type_id":1,"field":"x","operator":"like","value":1}}]}}`, "app", 400,
				[]string{`"field":"filter.and[1].object_attribute.operator"`}},
			{"filter on unknown type", "POST", "/v1/objects", `{"object_type_id":"8","filter":{"object_attribute":{"type_id":8,"field":"x","operator":"exists"}}}`, "app", 404, nil},
			{"object attributes", "GET", "/v1/objects/1/acc1/attributes", "", "app", 200, []string{`"portfolio_amount":"15000"`, `"object_type_id":"1"`, `"object_id":"acc1"`}},
			{"object relationships", "GET", "/v1/objects/1/acc1/relationships", "", "app", 200, []string{`"email":"p1@example.com"`, `"user_role":"admin"`}},
			{"missing object", "GET", "/v1/objects/1/nope/attributes", "", "app", 404, []string{`"meta":{"error"`}},
			{"customer by email", "GET", "/v1/customers?email=U1@example.com", "", "app", 200, []string{`"results":[{"id":"u1","email":"u1@example.com"`}},
			{"customer attributes", "GET", "/v1/customers/u1/attributes", "", "app", 200, []string{`"plan":"pro"`, `"unsubscribed":false`}},
			{"customer attributes by email", "GET", "/v1/customers/p2@example.com/attributes?id_type=email", "", "app", 200, []string{`"email":"p2@example.com"`}},
			{"customer relationships", "GET", "/v1/customers/p2@example.com/relationships?id_type=email", "", "app", 200, []string{`"object_id":"acc2"`, `"user_role":"admin"`}},
			{"bad id_type", "GET", "/v1/customers/u1/attributes?id_type=phone", "", "app", 400, []string{`"field":"id_type"`}},
			{"search customers", "POST", "/v1/customers", `{"filter":{"and":[{"attribute":{"field":"plan","operator":"eq","value":"pro"}}]}}`, "app", 200, []string{`"ids":["u1"]`}},
			{"customer activities", "GET", "/v1/customers/p0@example.com/activities?id_type=email", "", "app", 200, []string{`"type":"add_relationship"`, `"type":"profile_create"`}},
			{"activities by type", "GET", "/v1/activities?type=_o:1:create&limit=2", "", "app", 200, []string{`"type":"_o:1:create"`, `"next":"`}},
			{"activities by object", "GET", "/v1/activities?object_type_id=1&object_id=acc3", "", "app", 200, []string{`"object_id":"acc3"`, `"type":"_o:1:add_relationship"`, `"type":"_o:1:create"`}},
			{"object-scoped relationship type", "GET", "/v1/activities?type=_o:1:add_relationship&limit=1", "", "app", 200, []string{`"type":"_o:1:add_relationship"`, `"next":"`}},
			{"bad cursor", "GET", "/v1/activities?start=zz", "", "app", 400, []string{`"field":"start"`}},
			{"no key", "GET", "/v1/object_types", "", "", 401, nil},
			{"wrong key", "GET", "/v1/object_types", "", "nope", 401, []string{"not valid"}},
		}
		for _, tt := range tests {
			st, body := call(t, srv, tt.method, tt.url, tt.body, tt.key)
			if st != tt.wantStatus {
				t.Errorf("%s: status = %d, want %d; %s", tt.name, st, tt.wantStatus, body)
				continue
			}
			for _, want := range tt.wantContains {
				if !strings.Contains(body, want) {
					t.Errorf("%s: %s does not contain %s", tt.name, body, want)
				}
			}
		}

		t.Run("pages join up", func(t *testing.T) {
			var ids []string
			url := "/v1/objects?limit=2"
			for i := 0; i < 10; i++ {
				_, body := call(t, srv, "POST", url, `{"object_type_id":"1","filter":{"object_attribute":{"type_id":1,"field":"account_type","operator":"exists"}}}`, "app")
				var out struct {
					IDs  []string `json:"ids"`
					Next string   `json:"next"`
				}
				json.Unmarshal([]byte(body), &out)
				ids = append(ids, out.IDs...)
				if out.Next == "" {
					break
				}
				url = "/v1/objects?limit=2&start=" + out.Next
			}
			if got := strings.Join(ids, ","); got != "acc0,acc1,acc2,acc3,acc4" {
				t.Errorf("ids = %s", got)
			}
		})
	})
}

func jsonNum(n int) string { b, _ := json.Marshal(n); return string(b) }
