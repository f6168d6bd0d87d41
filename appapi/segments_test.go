package appapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

func TestSegmentEndpoints(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, srv *httptest.Server, s *store.Store, ws *herald.Workspace) {
		for _, tc := range []struct {
			name, method, url, body string
			wantStatus              int
			wantContains            []string
		}{
			{"creates a data-driven segment", "POST", "/v1/segments", `{"segment":{"name":"Pro","conditions":{"attribute":{"field":"plan","operator":"eq","value":"pro"}}}}`,
				200, []string{`"id":1`, `"type":"dynamic"`, `"state":"build"`}},
			{"creates a manual segment", "POST", "/v1/segments", `{"segment":{"name":"VIP","description":"hand-picked"}}`,
				200, []string{`"id":2`, `"type":"manual"`, `"state":"finished"`, `"description":"hand-picked"`}},
			{"names the bad node of a tree", "POST", "/v1/segments", `{"segment":{"name":"x","conditions":{"or":[{"attribute":{"field":"a","operator":"eq","value":1}},{"related":{"type_id":"one"}}]}}}`,
				400, []string{`"field":"segment.conditions.or[1].related.type_id"`, "object type id"}},
			{"needs the segment wrapper", "POST", "/v1/segments", `{"name":"x"}`, 400, []string{`"field":"segment"`}},
			{"needs a name", "POST", "/v1/segments", `{"segment":{"name":""}}`, 400, []string{`"field":"segment.name"`}},
			{"refuses a missing referenced segment", "POST", "/v1/segments", `{"segment":{"name":"y","conditions":{"segment":{"id":77}}}}`, 404, []string{"segment 77"}},
			{"lists", "GET", "/v1/segments", "", 200, []string{`"name":"Pro"`, `"name":"VIP"`}},
			{"gets one", "GET", "/v1/segments/1", "", 200, []string{`"segment":{`, `"conditions":{`}},
			{"renames", "PUT", "/v1/segments/2", `{"segment":{"name":"VIPs"}}`, 200, []string{`"name":"VIPs"`, `"type":"manual"`}},
			{"keeps a manual segment manual", "PUT", "/v1/segments/2", `{"segment":{"conditions":{"attribute":{"field":"a","operator":"exists"}}}}`, 400, []string{"cannot become dynamic"}},
			{"counts", "GET", "/v1/segments/2/customer_count", "", 200, []string{`"count":0`}},
			{"pages membership", "GET", "/v1/segments/2/membership?limit=5", "", 200, []string{`"ids":[]`, `"next":""`}},
			{"refuses a bad id", "GET", "/v1/segments/abc", "", 400, []string{`"field":"segment_id"`}},
			{"404s an unknown segment", "GET", "/v1/segments/99/customer_count", "", 404, nil},
			{"preview needs the engine", "POST", "/v1/segments/preview", `{"conditions":{"attribute":{"field":"a","operator":"exists"}}}`, 501, nil},
			{"deletes", "DELETE", "/v1/segments/2", "", 200, nil},
			{"is gone", "GET", "/v1/segments/2", "", 404, nil},
		} {
			st, body := call(t, srv, tc.method, tc.url, tc.body, "app")
			if st != tc.wantStatus {
				t.Errorf("%s: status %d, want %d: %s", tc.name, st, tc.wantStatus, body)
			}
			for _, want := range tc.wantContains {
				if !strings.Contains(body, want) {
					t.Errorf("%s: body %s does not contain %s", tc.name, body, want)
				}
			}
		}
	})
}
