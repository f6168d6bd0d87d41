package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
)

// compatDir holds the customerio-node harness: package.json, package-lock.json, compat.js.
const compatDir = "testdata/compat"

// nodeClientVersion is the customerio-node release compat.js is written against.
const nodeClientVersion = "5.2.0"

// requireNodeEnv makes a missing node or customerio-node a failure instead of a skip (CI).
const requireNodeEnv = "HERALD_REQUIRE_NODE_CLIENT"

// TestNodeClient drives Herald with the official customerio-node client (compat.js) and
// checks what each client call resolved with.
func TestNodeClient(t *testing.T) {
	t.Parallel()
	node := nodeClient(t)
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn)
		if st, b := s.app("POST", "/v1/object_types", `{"name":"Companies","singular_name":"Company"}`); st != 201 {
			t.Fatalf("create object type: %d %s, want 201", st, b)
		}
		out := runCompatJS(t, s, node)
		checkNodeScenario(t, s, out)
		checkNodePipelines(t, out)
	})
}

// nodeClient returns the node binary, or skips (fails under HERALD_REQUIRE_NODE_CLIENT=1)
// when node or the pinned customerio-node package is not installed.
func nodeClient(t *testing.T) string {
	t.Helper()
	install := "run `npm ci --prefix e2e/testdata/compat` (or `npm install --prefix e2e/testdata/compat`) from the repository root"
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(requireNodeEnv) == "1" {
			t.Fatalf("%s (%s=1 makes this a failure)", msg, requireNodeEnv)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH; install Node.js 20 or newer, then %s", install)
	}
	manifest := filepath.Join(compatDir, "node_modules", "customerio-node", "package.json")
	b, err := os.ReadFile(manifest)
	if err != nil {
		missing("customerio-node %s is not installed (%s is missing); %s", nodeClientVersion, manifest, install)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil || pkg.Version != nodeClientVersion {
		missing("customerio-node in %s is version %q, want %s; to reinstall, %s", compatDir, pkg.Version, nodeClientVersion, install)
	}
	return node
}

// runCompatJS runs compat.js against s and returns its JSON document, one entry per step.
func runCompatJS(t *testing.T, s *server, node string) map[string]json.RawMessage {
	t.Helper()
	return runNodeScript(t, s, node, "compat.js")
}

// runNodeScript runs one of the customerio-node scripts in compatDir against s (with env
// added to its environment) and returns its JSON document, one entry per step.
func runNodeScript(t *testing.T, s *server, node, script string, env ...string) map[string]json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = compatDir
	cmd.Env = append(os.Environ(), "HERALD_URL="+s.URL, "HERALD_SITE_ID="+s.SiteID,
		"HERALD_TRACK_API_KEY="+s.TrackKey, "HERALD_APP_API_KEY="+s.AppKey, "HERALD_WRITE_KEY="+s.WriteKey)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstderr:\n%s\nstdout:\n%s\nserver logs:\n%s", script, err, &stderr, &stdout, s.logs)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%s printed invalid JSON: %v\n%s\nstderr:\n%s", script, err, &stdout, &stderr)
	}
	return out
}

// nodeStep decodes what the client call name resolved with into v. It fails the test, and
// returns false, when the step is missing or the call threw.
func nodeStep(t *testing.T, out map[string]json.RawMessage, name string, v any) bool {
	t.Helper()
	raw, ok := out[name]
	if !ok {
		t.Errorf("%s: no result in compat.js output", name)
		return false
	}
	var thrown struct {
		Error      *string `json:"error"`
		StatusCode int     `json:"statusCode"`
		Body       string  `json:"body"`
	}
	if json.Unmarshal(raw, &thrown) == nil && thrown.Error != nil {
		t.Errorf("%s: client threw %q (status %d, body %s), want it to resolve", name, *thrown.Error, thrown.StatusCode, thrown.Body)
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Errorf("%s: resolved with %s, which does not decode into %T: %v", name, raw, v, err)
		return false
	}
	return true
}

// nodeCheck is one field comparison.
type nodeCheck struct {
	name      string
	got, want any
}

func runNodeChecks(t *testing.T, checks []nodeCheck) {
	t.Helper()
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// Wire shapes of the App API answers, as the client hands them back.
type (
	nodeObjectType struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		SingularName string `json:"singular_name"`
		Slug         string `json:"slug"`
		SingularSlug string `json:"singular_slug"`
		Enabled      bool   `json:"enabled"`
		Icon         string `json:"icon"`
	}
	nodeObjectIDs struct {
		ObjectID    string `json:"object_id"`
		CioObjectID string `json:"cio_object_id"`
	}
	nodePersonIDs struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		CioID string `json:"cio_id"`
	}
	nodeActivity struct {
		ID           string                     `json:"id"`
		Type         string                     `json:"type"`
		Timestamp    int64                      `json:"timestamp"`
		CustomerID   string                     `json:"customer_id"`
		Name         string                     `json:"name"`
		ObjectTypeID string                     `json:"object_type_id"`
		ObjectID     string                     `json:"object_id"`
		Data         map[string]json.RawMessage `json:"data"`
	}
)

// checkNodeScenario checks compat.js's output; the literals mirror the scenario in compat.js.
func checkNodeScenario(t *testing.T, s *server, out map[string]json.RawMessage) {
	defer func() {
		if t.Failed() {
			doc, _ := json.MarshalIndent(out, "", "  ")
			t.Logf("compat.js output:\n%s\nserver logs:\n%s", doc, s.logs)
		}
	}()
	const (
		person  = "user-1"
		email   = "user-1@example.com"
		objType = "1"
		object  = "acme"
	)

	// Track API: success resolves with the parsed body, {}.
	for _, name := range []string{"identify", "track", "entity"} {
		var got map[string]any
		if nodeStep(t, out, name, &got) && !reflect.DeepEqual(got, map[string]any{}) {
			t.Errorf("%s: got %v, want {}", name, got)
		}
	}

	// batch: the 207 resolves (no throw) with the per-operation errors.
	var batch struct {
		Errors []struct {
			BatchIndex *int   `json:"batch_index"`
			Reason     string `json:"reason"`
			Field      string `json:"field"`
			Message    string `json:"message"`
		} `json:"errors"`
	}
	if nodeStep(t, out, "batch", &batch) {
		if len(batch.Errors) != 1 {
			t.Errorf("batch: got %d errors %s, want exactly 1 (for batch_index 3)", len(batch.Errors), out["batch"])
		} else {
			e := batch.Errors[0]
			index := -1
			if e.BatchIndex != nil {
				index = *e.BatchIndex
			}
			runNodeChecks(t, []nodeCheck{
				{"batch errors[0].batch_index", index, 3},
				{"batch errors[0].reason", e.Reason, "not_found"},
				{"batch errors[0].field", e.Field, "identifiers.object_type_id"},
				{"batch errors[0].message is set", e.Message != "", true},
			})
		}
	}

	var types struct {
		Types []nodeObjectType `json:"types"`
	}
	if nodeStep(t, out, "listObjectTypes", &types) {
		want := []nodeObjectType{{ID: "1", Name: "Companies", SingularName: "Company", Slug: "companies", SingularSlug: "company", Enabled: true}}
		runNodeChecks(t, []nodeCheck{{"listObjectTypes types", types.Types, want}})
	}

	var found struct {
		Identifiers []nodeObjectIDs `json:"identifiers"`
		IDs         []string        `json:"ids"`
		Next        *string         `json:"next"`
	}
	cioObjectID := ""
	if nodeStep(t, out, "findObjects", &found) {
		runNodeChecks(t, []nodeCheck{
			{"findObjects ids", found.IDs, []string{object}}, // globex (from entity) does not match
			{"findObjects identifiers count", len(found.Identifiers), 1},
			{"findObjects next", found.Next != nil && *found.Next == "", true},
		})
		if len(found.Identifiers) == 1 {
			cioObjectID = found.Identifiers[0].CioObjectID
			runNodeChecks(t, []nodeCheck{
				{"findObjects identifiers[0].object_id", found.Identifiers[0].ObjectID, object},
				{"findObjects identifiers[0].cio_object_id is set", cioObjectID != "", true},
			})
		}
	}

	var attrs struct {
		Object struct {
			ObjectTypeID string            `json:"object_type_id"`
			Identifiers  nodeObjectIDs     `json:"identifiers"`
			Attributes   map[string]string `json:"attributes"`
			Timestamps   map[string]int64  `json:"timestamps"`
			CreatedAt    int64             `json:"created_at"`
			UpdatedAt    int64             `json:"updated_at"`
		} `json:"object"`
	}
	if nodeStep(t, out, "getObjectAttributes", &attrs) {
		o := attrs.Object
		runNodeChecks(t, []nodeCheck{
			{"getObjectAttributes object_type_id", o.ObjectTypeID, objType},
			{"getObjectAttributes identifiers", o.Identifiers, nodeObjectIDs{ObjectID: object, CioObjectID: cioObjectID}},
			// Sent as {name: "Acme Corp", employees: 250, active: true, score: 9.5}; read back as strings.
			{"getObjectAttributes attributes", o.Attributes, map[string]string{"name": "Acme Corp", "employees": "250", "active": "true", "score": "9.5"}},
			{"getObjectAttributes timestamps count", len(o.Timestamps), 4},
			{"getObjectAttributes created_at > 0", o.CreatedAt > 0, true},
			{"getObjectAttributes updated_at >= created_at", o.UpdatedAt >= o.CreatedAt, true},
		})
	}

	var objRels struct {
		Relationships []struct {
			Identifiers        nodePersonIDs     `json:"identifiers"`
			ObjectTypeID       string            `json:"object_type_id"`
			ObjectTypeDisabled bool              `json:"object_type_disabled"`
			Attributes         map[string]string `json:"attributes"`
		} `json:"cio_relationships"`
		Next *string `json:"next"`
	}
	cioID := ""
	if nodeStep(t, out, "getObjectRelationships", &objRels) {
		if len(objRels.Relationships) != 1 {
			t.Errorf("getObjectRelationships: got %d relationships %s, want 1 (%s)", len(objRels.Relationships), out["getObjectRelationships"], person)
		} else {
			r := objRels.Relationships[0]
			cioID = r.Identifiers.CioID
			runNodeChecks(t, []nodeCheck{
				{"getObjectRelationships [0].identifiers.id", r.Identifiers.ID, person},
				{"getObjectRelationships [0].identifiers.email", r.Identifiers.Email, email},
				{"getObjectRelationships [0].identifiers.cio_id is set", cioID != "", true},
				{"getObjectRelationships [0].object_type_id", r.ObjectTypeID, objType},
				{"getObjectRelationships [0].object_type_disabled", r.ObjectTypeDisabled, false},
				{"getObjectRelationships [0].attributes", r.Attributes, map[string]string{"user_role": "admin"}},
				{"getObjectRelationships next", objRels.Next != nil && *objRels.Next == "", true},
			})
		}
	}

	var custRels struct {
		Relationships []struct {
			Identifiers struct {
				ObjectTypeID string `json:"object_type_id"`
				ObjectID     string `json:"object_id"`
				CioObjectID  string `json:"cio_object_id"`
			} `json:"identifiers"`
			ObjectTypeID string            `json:"object_type_id"`
			ObjectID     string            `json:"object_id"`
			CioObjectID  string            `json:"cio_object_id"`
			Attributes   map[string]string `json:"attributes"`
		} `json:"cio_relationships"`
		Next *string `json:"next"`
	}
	if nodeStep(t, out, "getCustomerRelationships", &custRels) {
		if len(custRels.Relationships) != 1 {
			t.Errorf("getCustomerRelationships: got %d relationships %s, want 1 (%s)", len(custRels.Relationships), out["getCustomerRelationships"], object)
		} else {
			r := custRels.Relationships[0]
			runNodeChecks(t, []nodeCheck{
				{"getCustomerRelationships [0].identifiers.object_type_id", r.Identifiers.ObjectTypeID, objType},
				{"getCustomerRelationships [0].identifiers.object_id", r.Identifiers.ObjectID, object},
				{"getCustomerRelationships [0].identifiers.cio_object_id", r.Identifiers.CioObjectID, cioObjectID},
				{"getCustomerRelationships [0].object_type_id", r.ObjectTypeID, objType},
				{"getCustomerRelationships [0].object_id", r.ObjectID, object},
				{"getCustomerRelationships [0].cio_object_id", r.CioObjectID, cioObjectID},
				{"getCustomerRelationships [0].attributes", r.Attributes, map[string]string{"user_role": "admin"}},
				{"getCustomerRelationships next", custRels.Next != nil && *custRels.Next == "", true},
			})
		}
	}

	var customer struct {
		Customer struct {
			ID           string            `json:"id"`
			Identifiers  nodePersonIDs     `json:"identifiers"`
			Attributes   map[string]string `json:"attributes"`
			Timestamps   map[string]int64  `json:"timestamps"`
			Unsubscribed *bool             `json:"unsubscribed"`
			Devices      []json.RawMessage `json:"devices"`
		} `json:"customer"`
	}
	if nodeStep(t, out, "getAttributes", &customer) {
		c := customer.Customer
		runNodeChecks(t, []nodeCheck{
			{"getAttributes customer.id", c.ID, person},
			{"getAttributes customer.identifiers", c.Identifiers, nodePersonIDs{ID: person, Email: email, CioID: cioID}},
			{"getAttributes attributes.email", c.Attributes["email"], email},
			{"getAttributes attributes.plan", c.Attributes["plan"], "pro"}, // basic from identify, pro from batch
			{"getAttributes timestamps.plan > 0", c.Timestamps["plan"] > 0, true},
			{"getAttributes unsubscribed", c.Unsubscribed != nil && !*c.Unsubscribed, true},
			{"getAttributes devices is an array", c.Devices != nil, true},
		})
	}

	var acts struct {
		Activities []nodeActivity `json:"activities"`
		Next       *string        `json:"next"`
	}
	if nodeStep(t, out, "getCustomerActivities", &acts) {
		checkActivities(t, acts.Activities, person, object)
	}
}

// checkActivities checks that the customer's activities hold the scenario's changes, newest
// first.
func checkActivities(t *testing.T, acts []nodeActivity, person, object string) {
	diff := func(a nodeActivity, attr string) string {
		var d struct{ From, To any }
		json.Unmarshal(a.Data[attr], &d)
		return fmt.Sprintf("%v->%v", d.From, d.To)
	}
	// Newest first: the batch event, the batch relationship, the batch plan change, the
	// tracked event, then the profile creation by identify.
	want := []struct {
		desc  string
		match func(nodeActivity) bool
	}{
		{"event viewed_pricing with data.page", func(a nodeActivity) bool {
			return a.Type == "event" && a.Name == "viewed_pricing" && string(a.Data["page"]) == `"/pricing"`
		}},
		{"add_relationship to object 1/" + object + " with user_role null->admin", func(a nodeActivity) bool {
			return a.Type == "add_relationship" && a.ObjectTypeID == "1" && a.ObjectID == object && diff(a, "user_role") == "<nil>->admin"
		}},
		{"attribute_change plan basic->pro", func(a nodeActivity) bool {
			return a.Type == "attribute_change" && diff(a, "plan") == "basic->pro"
		}},
		{"event purchased with data.sku", func(a nodeActivity) bool {
			return a.Type == "event" && a.Name == "purchased" && string(a.Data["sku"]) == `"A-1"`
		}},
		{"profile_create", func(a nodeActivity) bool { return a.Type == "profile_create" }},
	}
	// want must appear in order (other activities may sit between).
	next := 0
	for _, a := range acts {
		if a.CustomerID != person {
			t.Errorf("activity %s (%s): customer_id got %q, want %q", a.ID, a.Type, a.CustomerID, person)
		}
		if a.ID == "" || a.Timestamp <= 0 {
			t.Errorf("activity %s (%s): id %q and timestamp %d, want both set", a.ID, a.Type, a.ID, a.Timestamp)
		}
		if next < len(want) && want[next].match(a) {
			next++
		}
	}
	if next < len(want) {
		var got []string
		for _, a := range acts {
			got = append(got, a.Type+":"+a.Name)
		}
		t.Errorf("getCustomerActivities: missing (or out of newest-first order) %q; got types %v", want[next].desc, got)
	}
}

// checkNodePipelines checks the PipelinesClient steps: accepted calls resolve {}, a refused one
// (strict mode) throws with the reason, and the writes are visible through the App API.
func checkNodePipelines(t *testing.T, out map[string]json.RawMessage) {
	t.Helper()
	for _, name := range []string{"pipelinesIdentify", "pipelinesTrack", "pipelinesGroup", "pipelinesBatch"} {
		var got map[string]any
		if nodeStep(t, out, name, &got) && !reflect.DeepEqual(got, map[string]any{}) {
			t.Errorf("%s resolved %v, want {}", name, got)
		}
	}
	var refused struct {
		Error      string `json:"error"`
		StatusCode int    `json:"statusCode"`
	}
	json.Unmarshal(out["pipelinesRefused"], &refused)
	if refused.StatusCode != 400 || !strings.Contains(refused.Error, "object type 99 does not exist") {
		t.Errorf("pipelinesRefused = %s, want a 400 naming object type 99", out["pipelinesRefused"])
	}
	var rels struct {
		Relationships []struct {
			Identifiers map[string]string `json:"identifiers"`
			Attributes  map[string]string `json:"attributes"`
		} `json:"cio_relationships"`
	}
	if nodeStep(t, out, "pipelinesRelationships", &rels) {
		found := false
		for _, r := range rels.Relationships {
			found = found || (r.Identifiers["id"] == "user-2" && r.Attributes["user_role"] == "contributor")
		}
		if !found {
			t.Errorf("user-2 is not related to acme as contributor: %+v", rels.Relationships)
		}
	}
	var user3 struct {
		Customer struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"customer"`
	}
	if nodeStep(t, out, "pipelinesUser3", &user3) && user3.Customer.Attributes["email"] != "user-3@example.com" {
		t.Errorf("user-3 = %+v", user3.Customer.Attributes)
	}
}
