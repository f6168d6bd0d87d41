package segment_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestTimeRulesMoveWithTheClock: "signed up more than 7 days ago" gains a person when time
// passes, with no write at all, at the engine's next scheduled refresh.
func TestTimeRulesMoveWithTheClock(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		w.apply(t,
			&herald.IdentifyPerson{Ref: person("old"), Attributes: herald.Attributes{"signed_up": raw(now.Unix() - 10*day)}},
			&herald.IdentifyPerson{Ref: person("new"), Attributes: herald.Attributes{"signed_up": raw(fmt.Sprint(now.Unix() - 5*day))}},
		)
		g := w.segment(t, "signed up over a week ago", `{"attribute":{"field":"signed_up","operator":"more_than_days_ago","value":7}}`)
		e := newEngine(w)
		clock := now
		e.Now = func() time.Time { return clock }
		e.Refresh = time.Hour
		drain(t, w, e)
		if got := w.memberIDs(t, g); !reflect.DeepEqual(got, []string{"old"}) {
			t.Fatalf("members = %v, want [old]", got)
		}
		clock = now.Add(30 * time.Minute) // before the refresh is due: nothing moves
		drain(t, w, e)
		if _, err := e.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := w.memberIDs(t, g); !reflect.DeepEqual(got, []string{"old"}) {
			t.Fatalf("before the refresh: members = %v, want [old]", got)
		}
		clock = now.Add(3 * 24 * time.Hour)
		if _, err := e.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := w.memberIDs(t, g); !reflect.DeepEqual(got, []string{"new", "old"}) {
			t.Errorf("three days later: members = %v, want [new old]", got)
		}
	})
}

// TestSegmentDefinitions: conditions are checked when a segment is saved, references to
// other segments must exist and must not form a cycle, and changing conditions rebuilds.
func TestSegmentDefinitions(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		ctx := context.Background()
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: herald.Attributes{"plan": raw("pro")}},
			&herald.IdentifyPerson{Ref: person("bob"), Attributes: herald.Attributes{"plan": raw("free")}})
		a := w.segment(t, "pro", `{"attribute":{"field":"plan","operator":"eq","value":"pro"}}`)
		b := w.segment(t, "in pro", fmt.Sprintf(`{"segment":{"id":%d}}`, a.ID))
		refuse := func(name string, err error, field, msg string) {
			t.Helper()
			e := herald.AsError(err)
			if err == nil || e.Field != field || !strings.Contains(e.Message, msg) {
				t.Errorf("%s: error %v, want field %s and %q", name, err, field, msg)
			}
		}
		_, err := w.s.UpdateSegment(ctx, w.ws, a.ID, herald.Segment{Conditions: []byte(fmt.Sprintf(`{"not":{"segment":{"id":%d}}}`, b.ID))})
		refuse("cycle", err, "segment.conditions", "depend on itself")
		_, err = w.s.CreateSegment(ctx, w.ws, herald.Segment{Name: "ghost", Conditions: []byte(`{"segment":{"id":999}}`)})
		refuse("missing segment", err, "segment.conditions", "does not exist")
		_, err = w.s.CreateSegment(ctx, w.ws, herald.Segment{Name: "bad", Conditions: []byte(`{"attribute":{"field":"plan","operator":"equals","value":1}}`)})
		refuse("bad operator", err, "segment.conditions.attribute.operator", "unknown operator")
		_, err = w.s.CreateSegment(ctx, w.ws, herald.Segment{Name: " "})
		refuse("no name", err, "segment.name", "required")
		refuse("delete a used segment", w.s.DeleteSegment(ctx, w.ws, a.ID), "segment_id", "is used by segment")

		e := newEngine(w)
		drain(t, w, e)
		if got := w.memberIDs(t, b); !reflect.DeepEqual(got, []string{"ann"}) {
			t.Fatalf("dependent segment members = %v, want [ann]", got)
		}
		updated, err := w.s.UpdateSegment(ctx, w.ws, a.ID, herald.Segment{Conditions: []byte(`{"attribute":{"field":"plan","operator":"eq","value":"free"}}`)})
		if err != nil || updated.State != herald.SegmentBuilding {
			t.Fatalf("update = %+v, %v; want state build", updated, err)
		}
		drain(t, w, e)
		got, _ := w.s.Segment(ctx, w.ws, a.ID)
		if got.State != herald.SegmentFinished || !reflect.DeepEqual(w.memberIDs(t, a), []string{"bob"}) || !reflect.DeepEqual(w.memberIDs(t, b), []string{"bob"}) {
			t.Errorf("after the rebuild: state %s, members %v and %v, want finished, [bob] and [bob]", got.State, w.memberIDs(t, a), w.memberIDs(t, b))
		}
	})
}
