package e2e

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
)

// TestNodeClientSegments: the official customerio-node client creates a data-driven segment
// over relationships, reads its build state, count and membership and a person's segments,
// sees it follow a relationship change, and manages a manual segment through the Track API.
func TestNodeClientSegments(t *testing.T) {
	t.Parallel()
	node := nodeClient(t)
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := startServer(t, dsn)
		if st, b := s.app("POST", "/v1/object_types", `{"name":"Companies","singular_name":"Company"}`); st != 201 {
			t.Fatalf("create object type: %d %s, want 201", st, b)
		}
		out := runNodeScript(t, s, node, "segments.js")
		type seg struct {
			ID    int64  `json:"id"`
			Name  string `json:"name"`
			Type  string `json:"type"`
			State string `json:"state"`
		}
		var created struct{ Segment seg }
		if nodeStep(t, out, "createSegment", &created) && (created.Segment.Type != "dynamic" || created.Segment.State != "build" || created.Segment.Name != "Acme admins") {
			t.Errorf("createSegment = %+v, want a dynamic segment in state build", created.Segment)
		}
		var built seg
		if nodeStep(t, out, "built", &built) && built.State != "finished" {
			t.Errorf("built = %+v", built)
		}
		var count struct{ Count int }
		if nodeStep(t, out, "count", &count) && count.Count != 1 {
			t.Errorf("count = %d, want 1 (ann is the only admin)", count.Count)
		}
		var members struct {
			IDs         []string `json:"ids"`
			Identifiers []struct {
				ID    string `json:"id"`
				CioID string `json:"cio_id"`
			} `json:"identifiers"`
		}
		if nodeStep(t, out, "membership", &members) && (!reflect.DeepEqual(members.IDs, []string{"ann"}) || len(members.Identifiers) != 1 || members.Identifiers[0].CioID == "") {
			t.Errorf("membership = %+v, want ann with a cio_id", members)
		}
		var annSegs struct{ Segments []seg }
		if nodeStep(t, out, "annSegments", &annSegs) && (len(annSegs.Segments) != 1 || annSegs.Segments[0].ID != created.Segment.ID) {
			t.Errorf("ann's segments = %+v", annSegs.Segments)
		}
		var promoted struct{}
		nodeStep(t, out, "promote", &promoted)
		if nodeStep(t, out, "countAfter", &count) && count.Count != 2 {
			t.Errorf("count after bob became admin = %d, want 2", count.Count)
		}
		var manual struct {
			IDs []string `json:"ids"`
		}
		if nodeStep(t, out, "manualMembership", &manual) && !reflect.DeepEqual(manual.IDs, []string{"bob"}) {
			t.Errorf("manual membership = %v, want [bob] (ann added, then removed)", manual.IDs)
		}
		var refused struct {
			Error      string `json:"error"`
			StatusCode int    `json:"statusCode"`
		}
		json.Unmarshal(out["addToDynamic"], &refused)
		if refused.StatusCode != 400 {
			t.Errorf("adding to a data-driven segment = %s, want a 400", out["addToDynamic"])
		}
		var list struct{ Segments []seg }
		if nodeStep(t, out, "listSegments", &list) {
			var names []string
			for _, g := range list.Segments {
				names = append(names, g.Name+":"+g.Type)
			}
			sort.Strings(names)
			if want := []string{"Acme admins:dynamic", "VIP:manual"}; !reflect.DeepEqual(names, want) {
				t.Errorf("listSegments = %v, want %v", names, want)
			}
		}
		json.Unmarshal(out["deleted"], &refused)
		if refused.StatusCode != 404 {
			t.Errorf("getSegment after delete = %s, want a 404", out["deleted"])
		}
		// The activity log shows the membership changes.
		_, body := s.app("GET", "/v1/activities?type=segment_entered&limit=20", nil)
		if got := strings.Count(string(body), `"segment_entered"`); got < 4 {
			t.Errorf("segment_entered activities = %d, want ann and bob in each segment: %s", got, body)
		}
	})
}
