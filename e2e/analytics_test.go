package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/segmentio/analytics-go/v3"
)

// TestSegmentClient drives the Pipelines API with Segment's own Go library and reads the
// result back through the App API.
func TestSegmentClient(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn)
		if st, body := s.app("POST", "/v1/object_types", `{"name":"Accounts","singular_name":"Account"}`); st != 201 {
			t.Fatalf("create type: %d %s", st, body)
		}
		client, err := analytics.NewWithConfig(s.WriteKey, analytics.Config{Endpoint: s.URL, BatchSize: 5, Interval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		calls := []analytics.Message{
			analytics.Identify{UserId: "u-42", Traits: analytics.NewTraits().SetEmail("ann@example.com").Set("plan", "pro")},
			analytics.Track{UserId: "u-42", Event: "Deposit Made", Properties: analytics.NewProperties().Set("amount", 12000)},
			analytics.Group{UserId: "u-42", GroupId: "acc-7", Traits: analytics.NewTraits().Set("account_type", "brokerage").
				Set("portfolio_amount", 12000).Set("object_type_id", "1").Set("relationshipAttributes", map[string]any{"user_role": "owner"})},
		}
		for _, c := range calls {
			if err := client.Enqueue(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := client.Close(); err != nil { // flushes
			t.Fatal(err)
		}

		check := func(path, want string) {
			t.Helper()
			var body []byte
			for i := 0; i < 50; i++ { // the client delivers asynchronously
				var st int
				st, body = s.app("GET", path, nil)
				if st == 200 && strings.Contains(string(body), want) {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Errorf("GET %s = %s, want it to contain %s", path, body, want)
		}
		check("/v1/customers/u-42/attributes", `"email":"ann@example.com"`)
		check("/v1/customers/u-42/attributes", `"plan":"pro"`)
		check("/v1/objects/1/acc-7/attributes", `"portfolio_amount":"12000"`)
		check("/v1/objects/1/acc-7/relationships", `"user_role":"owner"`)
		check("/v1/customers/u-42/activities?type=event", `"name":"Deposit Made"`)

		_, body := s.app("GET", "/v1/objects/1/acc-7/attributes", nil)
		var obj struct {
			Object struct {
				Attributes map[string]string `json:"attributes"`
			} `json:"object"`
		}
		json.Unmarshal(body, &obj)
		for _, k := range []string{"object_type_id", "relationshipAttributes"} {
			if _, ok := obj.Object.Attributes[k]; ok {
				t.Errorf("group trait %s was stored as an object attribute: %v", k, obj.Object.Attributes)
			}
		}
	})
}
