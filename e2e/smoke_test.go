package e2e

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
)

// TestWalkthrough follows the README's curl walkthrough on both engines.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			dsn := ""
			if engine == "postgres" {
				dsn = testdb.PostgresDSN(t)
			}
			s := startServer(t, dsn)
			steps := []struct {
				name         string
				status       int
				body         []byte
				wantStatus   int
				wantContains string
			}{}
			add := func(name string, status int, body []byte, wantStatus int, want string) {
				steps = append(steps, struct {
					name         string
					status       int
					body         []byte
					wantStatus   int
					wantContains string
				}{name, status, body, wantStatus, want})
			}
			st, b := s.app("POST", "/v1/object_types", `{"name":"Companies","singular_name":"Company"}`)
			add("create type", st, b, 201, `"id":"1"`)
			st, b = s.track("POST", "/api/v2/entity", `{"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"acme"},
				"attributes":{"name":"Acme","plan":"enterprise"},"cio_relationships":[{"identifiers":{"id":"42"},"relationship_attributes":{"user_role":"admin"}}]}`)
			add("identify object", st, b, 200, `{}`)
			st, b = s.app("GET", "/v1/objects/1/acme/attributes", nil)
			add("read object", st, b, 200, `"plan":"enterprise"`)
			st, b = s.app("GET", "/v1/objects/1/acme/relationships", nil)
			add("read relationships", st, b, 200, `"user_role":"admin"`)
			for _, st := range steps {
				if st.status != st.wantStatus || !strings.Contains(string(st.body), st.wantContains) {
					t.Errorf("%s: %d %s, want %d containing %s", st.name, st.status, st.body, st.wantStatus, st.wantContains)
				}
			}
		})
	}
}
