package segment_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/segment"
)

func newEngine(w *world) *segment.Engine {
	e := segment.NewEngine(w.s, slog.New(slog.DiscardHandler))
	e.Now = func() time.Time { return now }
	return e
}

// drain runs the engine until it has applied every change, its own included.
func drain(t testing.TB, w *world, e *segment.Engine) {
	t.Helper()
	ctx := context.Background()
	e.Kick() // segments may have been created or changed since the engine last looked
	for range 1000 {
		if _, err := e.Step(ctx); err != nil {
			t.Fatal(err)
		}
		last, err := w.s.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e.Processed() >= last {
			return
		}
	}
	t.Fatal("the segment engine does not settle")
}

func (w *world) members(t testing.TB, id int64) []int64 {
	t.Helper()
	pks, err := w.s.SegmentMemberPKs(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sorted(pks)
}

func (w *world) segment(t testing.TB, name, conditions string) *herald.Segment {
	t.Helper()
	g, err := w.s.CreateSegment(context.Background(), w.ws, herald.Segment{Name: name, Conditions: []byte(conditions)})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func person(id string) herald.PersonRef { return herald.PersonRef{Kind: herald.ByID, Value: id} }

// randomWrite is one random change to the world: attributes, relationships, objects, events,
// deletions.
func randomWrite(r *rand.Rand, people int) herald.Op {
	p := person(fmt.Sprintf("p%d", r.IntN(people)))
	obj := herald.ObjectRef{TypeID: 1 + r.IntN(2), ObjectID: fmt.Sprintf("o%d", r.IntN(6))}
	switch r.IntN(8) {
	case 0, 1:
		return &herald.IdentifyPerson{Ref: p, Attributes: randomAttrs(r, personFields, 1+r.IntN(2))}
	case 2:
		return &herald.PersonRelationships{Ref: p, Items: []herald.PersonRelationship{{Object: obj, Attributes: randomAttrs(r, relFields, r.IntN(3))}}}
	case 3:
		return &herald.PersonRelationships{Ref: p, Delete: true, Items: []herald.PersonRelationship{{Object: obj}}}
	case 4:
		return &herald.IdentifyObject{Ref: obj, Attributes: randomAttrs(r, objectFields, 1+r.IntN(2))}
	case 5:
		return &herald.TrackEvent{Event: herald.Event{Person: p, Name: pick(r, eventNames), Type: herald.EventCustom,
			Timestamp: now.Unix() - int64(r.IntN(30))*day, Data: raw(randomAttrs(r, eventFields, r.IntN(2)))}}
	case 6:
		if r.IntN(4) == 0 {
			return &herald.DeletePerson{Ref: p}
		}
		return &herald.IdentifyPerson{Ref: p, Attributes: herald.Attributes{pick(r, personFields[:3]): raw(nil)}}
	default:
		if r.IntN(6) == 0 {
			return &herald.DeleteObject{Ref: obj}
		}
		return &herald.IdentifyObject{Ref: obj, Attributes: herald.Attributes{pick(r, objectFields[:3]): raw(nil)}}
	}
}

// TestIncrementalEqualsFull: after random sequences of writes, the membership the engine
// maintained incrementally equals a fresh full evaluation and the reference evaluator.
func TestIncrementalEqualsFull(t *testing.T) {
	t.Parallel()
	trees := map[string]string{
		"admins of 2+":   `{"related":{"type_id":1,"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"admin"}},"count":{"operator":"gte","value":2}}}`,
		"rich accounts":  `{"related":{"type_id":1,"object":{"attribute":{"field":"portfolio_amount","operator":"gt","value":10000}}}}`,
		"not enrolled":   `{"not":{"related":{"type_id":2,"object":{"attribute":{"field":"object_id","operator":"eq","value":"o1"}},"relationship":{"attribute":{"field":"enrollment_status","operator":"eq","value":"enrolled"}}}}}`,
		"buyers":         `{"and":[{"attribute":{"field":"plan","operator":"exists"}},{"event":{"name":"ticket_bought","count":{"operator":"gte","value":2},"within_days":20}}]}`,
		"at most 1 view": `{"or":[{"event":{"name":"viewed","count":{"operator":"lte","value":1}}},{"attribute":{"field":"score","operator":"lt","value":"100"}}]}`,
	}
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			testdb.Engines(t, func(t *testing.T, dsn string) {
				w := newWorld(t, dsn)
				manual := w.populate(t, seed, 30)
				segs := map[string]*herald.Segment{}
				for name, tree := range trees {
					segs[name] = w.segment(t, name, tree)
				}
				segs["rich or manual"] = w.segment(t, "rich or manual", fmt.Sprintf(`{"or":[{"segment":{"id":%d}},{"segment":{"id":%d}}]}`, segs["rich accounts"].ID, manual))
				e := newEngine(w)
				drain(t, w, e)
				r := rand.New(rand.NewPCG(seed, 99))
				before := map[string]int{}
				moved := 0 // segments whose membership some round changed
				defer func() {
					if !t.Failed() && moved < 3 {
						t.Errorf("membership moved only %d times over the rounds; the writes are too weak to test anything", moved)
					}
				}()
				for round := range 6 {
					var ops []herald.Op
					for range 15 {
						ops = append(ops, randomWrite(r, 30))
					}
					if _, err := w.s.Apply(context.Background(), w.ws, ops); err != nil {
						t.Fatal(err)
					}
					drain(t, w, e)
					people := w.snapshot(t)
					for name, g := range segs {
						c, err := g.Parsed()
						if err != nil {
							t.Fatal(err)
						}
						q, _ := segment.Compile(w.s.Engine(), w.ws, c, now.Unix(), nil)
						full, err := w.s.QueryPKs(context.Background(), q.SQL, q.Args...)
						if err != nil {
							t.Fatal(err)
						}
						got := w.members(t, g.ID)
						if len(got) != before[name] {
							moved++
						}
						before[name] = len(got)
						if !reflect.DeepEqual(got, sorted(full)) {
							t.Fatalf("seed %d round %d, segment %q: incremental %v, full build %v", seed, round, name, got, sorted(full))
						}
						if want := expected(people, c); !reflect.DeepEqual(got, want) {
							t.Fatalf("seed %d round %d, segment %q: incremental %v, reference %v", seed, round, name, got, want)
						}
					}
				}
			})
		})
	}
}
