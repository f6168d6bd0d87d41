package segment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/store"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 86400

// world is a store with a workspace and the three object types the tests use.
type world struct {
	s  *store.Store
	ws int64
}

func newWorld(t *testing.T, dsn string) *world {
	t.Helper()
	s, ws := testdb.OpenStore(t, dsn, herald.Workspace{})
	s.Now = func() time.Time { return now }
	for _, name := range []string{"Accounts", "Events", "Courses"} {
		if _, err := s.CreateObjectType(context.Background(), ws.ID, herald.ObjectType{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	return &world{s: s, ws: ws.ID}
}

func (w *world) apply(t testing.TB, ops ...herald.Op) {
	t.Helper()
	errs, err := w.s.Apply(context.Background(), w.ws, ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("op %d (%T): %v", i, ops[i], e)
		}
	}
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// Pools of values small enough that random conditions often hold.
var (
	personFields = []string{"plan", "score", "role", "signed_up", "id", "it's?"}
	objectFields = []string{"plan", "portfolio_amount", "city", "object_id"}
	relFields    = []string{"user_role", "enrollment_status", "score"}
	eventFields  = []string{"seats", "city"}
	eventNames   = []string{"ticket_bought", "viewed"}
	values       = []any{"admin", "Admin", "contributor", "enrolled", "Madison WI", "10000", "9999.5", "abc", " 12 ",
		5, 10000, 10001, 20000.5, -3, 0, true, false, "true", "ÄRGER", "ärger", "o1", "1e2", "x.y",
		"1e999", "1e-999", json.Number("9007199254740993"), "9007199254740993", "+.5", "5."}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// timestamp is a unix time near now, as a number or a numeric string.
func timestamp(r *rand.Rand) any {
	ts := now.Unix() + int64(r.IntN(40)-20)*day + int64(r.IntN(3)-1)
	if r.IntN(3) == 0 {
		return fmt.Sprint(ts)
	}
	return ts
}

func randomAttrs(r *rand.Rand, fields []string, n int) herald.Attributes {
	a := herald.Attributes{}
	for range n {
		f := pick(r, fields)
		if f == "id" || f == "object_id" {
			continue
		}
		if f == "signed_up" {
			a[f] = raw(timestamp(r))
			continue
		}
		a[f] = raw(pick(r, values))
	}
	return a
}

// populate writes a random graph through the write path: people, objects of types 1 and 2,
// relationships with attributes, events with data, and a manual segment with some people.
func (w *world) populate(t testing.TB, seed uint64, people int) (manual int64) {
	r := rand.New(rand.NewPCG(seed, 7))
	ctx := context.Background()
	var ops []herald.Op
	for i := range people {
		ops = append(ops, &herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByID, Value: fmt.Sprintf("p%d", i)}, Attributes: randomAttrs(r, personFields, r.IntN(4))})
	}
	for typ := 1; typ <= 2; typ++ {
		for o := range 6 {
			ops = append(ops, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: typ, ObjectID: fmt.Sprintf("o%d", o)}, Attributes: randomAttrs(r, objectFields, r.IntN(3))})
		}
	}
	w.apply(t, ops...)
	ops = nil
	for i := range people {
		for range r.IntN(4) {
			ref := herald.ObjectRef{TypeID: 1 + r.IntN(2), ObjectID: fmt.Sprintf("o%d", r.IntN(6))}
			ops = append(ops, &herald.PersonRelationships{Ref: herald.PersonRef{Kind: herald.ByID, Value: fmt.Sprintf("p%d", i)},
				Items: []herald.PersonRelationship{{Object: ref, Attributes: randomAttrs(r, relFields, r.IntN(3))}}})
		}
		for range r.IntN(4) {
			ops = append(ops, &herald.TrackEvent{Event: herald.Event{Person: herald.PersonRef{Kind: herald.ByID, Value: fmt.Sprintf("p%d", i)},
				Name: pick(r, eventNames), Type: herald.EventCustom, Timestamp: now.Unix() - int64(r.IntN(60))*day,
				Data: raw(randomAttrs(r, eventFields, r.IntN(3)))}})
		}
	}
	w.apply(t, ops...)
	g, err := w.s.CreateSegment(ctx, w.ws, herald.Segment{Name: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	op := &herald.SegmentMembership{SegmentID: g.ID, Manual: true}
	for i := range people {
		if r.IntN(3) == 0 {
			op.Add = append(op.Add, herald.PersonRef{Kind: herald.ByID, Value: fmt.Sprintf("p%d", i)})
		}
	}
	w.apply(t, op)
	return g.ID
}

// subject is one person as the in-memory evaluator sees them, read back through the store's
// public reads (not from what the test meant to write).
type subject struct {
	pk       int64
	attrs    herald.Attributes
	segments map[int64]bool
	events   map[string][]herald.EventFacts
	related  map[int][]herald.RelatedFacts
}

func (s *subject) Attributes() herald.Attributes            { return s.attrs }
func (s *subject) InSegment(id int64) bool                  { return s.segments[id] }
func (s *subject) Events(name string) []herald.EventFacts   { return s.events[name] }
func (s *subject) Related(typeID int) []herald.RelatedFacts { return s.related[typeID] }

// snapshot reads every person of the world.
func (w *world) snapshot(t testing.TB) []*subject {
	t.Helper()
	ctx := context.Background()
	people, _, err := w.s.FindPeople(ctx, w.ws, func(*herald.Person) bool { return true }, herald.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	segs, err := w.s.Segments(ctx, w.ws)
	if err != nil {
		t.Fatal(err)
	}
	var out []*subject
	for _, p := range people {
		sub := &subject{pk: p.PK, attrs: p.Attributes, segments: map[int64]bool{}, events: map[string][]herald.EventFacts{}, related: map[int][]herald.RelatedFacts{}}
		for _, g := range segs {
			in, err := w.s.SegmentMemberPKs(ctx, g.ID, []int64{p.PK})
			if err != nil {
				t.Fatal(err)
			}
			sub.segments[g.ID] = len(in) > 0
		}
		rels, _, err := w.s.PersonObjects(ctx, p.PK, herald.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, rel := range rels {
			o, err := w.s.Object(ctx, w.ws, herald.ObjectRef{TypeID: rel.Object.TypeID, ObjectID: rel.Object.ObjectID})
			if err != nil {
				t.Fatal(err)
			}
			oa := herald.Attributes{"object_id": raw(o.ObjectID)}
			for k, v := range o.Attributes {
				oa[k] = v
			}
			sub.related[rel.Object.TypeID] = append(sub.related[rel.Object.TypeID], herald.RelatedFacts{Object: oa, Relationship: rel.Attributes})
		}
		evs, _, err := w.s.Activities(ctx, w.ws, herald.ActivityFilter{Type: "event", PersonPK: p.PK}, herald.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			data, _ := herald.ParseAttributes(ev.Data, "data")
			sub.events[ev.Name] = append(sub.events[ev.Name], herald.EventFacts{Timestamp: ev.Timestamp, Data: data})
		}
		out = append(out, sub)
	}
	return out
}

// expected is the reference evaluator's answer over a snapshot, sorted.
func expected(people []*subject, c *herald.Cond) []int64 {
	out := []int64{}
	for _, p := range people {
		if c.Match(p, now.Unix()) {
			out = append(out, p.pk)
		}
	}
	return out
}

func sorted(pks []int64) []int64 {
	out := append([]int64{}, pks...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	if out == nil {
		out = []int64{}
	}
	return out
}
