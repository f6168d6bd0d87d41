package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/segment"
	"github.com/heraldhq/herald/store"
)

// SegmentsConfig says what the segment benchmark measures.
type SegmentsConfig struct {
	Database string // DSN; empty means a fresh SQLite file in DataDir
	DataDir  string
	Graph    store.BenchGraph
	Rate     int           // changes per second of the sustained phase
	Sustain  time.Duration // how long the sustained phase runs; 0 skips it
	Out      io.Writer     // progress and figures
}

// Segment conditions the benchmark builds.
var benchSegments = []struct{ name, conditions string }{
	{"admins of rich accounts", `{"related":{"type_id":1,"object":{"attribute":{"field":"portfolio_amount","operator":"gt","value":10000}},"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"admin"}}}}`},
	{"pro plan with 2+ tickets in 30 days", `{"and":[{"attribute":{"field":"plan","operator":"eq","value":"pro"}},{"event":{"name":"ticket_bought","count":{"operator":"gte","value":2},"within_days":30}}]}`},
	{"nested and/or/not", `{"or":[{"and":[{"attribute":{"field":"score","operator":"gte","value":900}},{"not":{"related":{"type_id":3,"relationship":{"attribute":{"field":"enrollment_status","operator":"eq","value":"enrolled"}}}}}]},{"and":[{"attribute":{"field":"plan","operator":"eq","value":"enterprise"}},{"related":{"type_id":2,"object":{"attribute":{"field":"city","operator":"eq","value":"Madison WI"}}}}]}]}`},
}

// Segments generates a graph, then measures full builds (the compiled query alone, the raw
// baseline, and the whole build with its membership writes), an object update that moves
// 1,000 related people, and sustained incremental maintenance latency.
func Segments(ctx context.Context, cfg SegmentsConfig) error {
	out := cfg.Out
	s, ws, err := openGraphStore(ctx, cfg.Database, cfg.DataDir)
	if err != nil {
		return err
	}
	defer s.Close()
	g := cfg.Graph
	start := time.Now()
	if err := s.GenerateBenchGraph(ctx, ws.ID, g, time.Now().Unix()); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: generated %d people, %d objects, %d relationships, ≤%d events each in %.1fs\n",
		s.Engine(), g.People, g.Objects+1, g.People*g.PerPerson+g.Hot, g.Events, time.Since(start).Seconds())

	e := segment.NewEngine(s, slog.New(slog.DiscardHandler))
	for _, b := range benchSegments {
		cond, err := herald.ParseConditions([]byte(b.conditions), "conditions")
		if err != nil {
			return err
		}
		// The build: create, evaluate over everyone (the first use of a relationship
		// attribute also creates its index), write every membership with its change record.
		t0 := time.Now()
		seg, err := s.CreateSegment(ctx, ws.ID, herald.Segment{Name: b.name, Conditions: []byte(b.conditions)})
		if err != nil {
			return err
		}
		if err := settle(ctx, s, e); err != nil {
			return err
		}
		build := time.Since(t0)
		count, _ := s.SegmentCount(ctx, seg.ID)
		// A full evaluation as the engine runs it, beside the same query run directly.
		q, err := segment.Compile(s.Engine(), ws.ID, cond, time.Now().Unix(), nil)
		if err != nil {
			return err
		}
		t0 = time.Now()
		pks, err := s.QueryPKs(ctx, q.SQL, q.Args...)
		if err != nil {
			return err
		}
		raw := time.Since(t0)
		t0 = time.Now()
		n, _, err := e.Preview(ctx, ws.ID, []byte(b.conditions), 0)
		if err != nil {
			return err
		}
		eval := time.Since(t0)
		fmt.Fprintf(out, "  full build %-38q %7d members: evaluation %6.0f ms (raw query %6.0f ms); first build with membership writes %6.0f ms\n",
			b.name, count, ms(eval), ms(raw), ms(build))
		if len(pks) != n || int64(n) != count {
			return fmt.Errorf("segment %q: raw query %d, evaluation %d, members %d", b.name, len(pks), n, count)
		}
	}

	// The engine runs as in herald serve from here on.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go e.Run(runCtx)

	// One object update moves every person related to it.
	hot := &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "hot"}, Attributes: herald.Attributes{"portfolio_amount": []byte("20000")}}
	t0 := time.Now()
	if err := s.ApplyOne(ctx, ws.ID, hot); err != nil {
		return err
	}
	committed := time.Since(t0)
	seq, err := s.LastSeq(ctx)
	if err != nil {
		return err
	}
	if err := e.WaitFor(ctx, seq); err != nil {
		return err
	}
	fmt.Fprintf(out, "  object update with %d related people: committed in %.0f ms, all memberships current %.0f ms after the commit\n",
		g.Hot, ms(committed), ms(time.Since(t0)-committed))

	if cfg.Sustain > 0 {
		if err := sustained(ctx, s, e, ws.ID, cfg, out); err != nil {
			return err
		}
	}
	return nil
}

// openGraphStore opens the store of a generated-graph benchmark: its default workspace with
// the three object types GenerateBenchGraph fills (1 accounts, 2 events, 3 courses).
func openGraphStore(ctx context.Context, database, dataDir string) (*store.Store, *herald.Workspace, error) {
	s, err := store.Open(ctx, database, dataDir)
	if err != nil {
		return nil, nil, err
	}
	ws, _, err := s.DefaultWorkspace(ctx, herald.Workspace{})
	if err == nil {
		for _, name := range []string{"Accounts", "Events", "Courses"} {
			if _, err = s.CreateObjectType(ctx, ws.ID, herald.ObjectType{Name: name}); err != nil {
				break
			}
		}
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, ws, nil
}

// settle runs the engine until it has applied every change.
func settle(ctx context.Context, s *store.Store, e *segment.Engine) error {
	e.Kick()
	for {
		if _, err := e.Step(ctx); err != nil {
			return err
		}
		last, err := s.LastSeq(ctx)
		if err != nil {
			return err
		}
		if e.Processed() >= last {
			return nil
		}
	}
}

// sustained changes people's plan at cfg.Rate per second, each change moving a person into
// (or out of) a "plan is vip" segment while the benchmark's other segments are maintained
// too, and measures, per change, the time from its commit to the membership change it
// causes, as a reader of the change feed sees it.
func sustained(ctx context.Context, s *store.Store, e *segment.Engine, ws int64, cfg SegmentsConfig, out io.Writer) error {
	seg, err := s.CreateSegment(ctx, ws, herald.Segment{Name: "plan is vip", Conditions: []byte(`{"attribute":{"field":"plan","operator":"eq","value":"vip"}}`)})
	if err != nil {
		return err
	}
	e.Kick()
	for { // its first build (over everyone) is not part of what this phase measures
		g, err := s.Segment(ctx, ws, seg.ID)
		if err != nil {
			return err
		}
		if g.State == herald.SegmentFinished {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var mu sync.Mutex
	committedAt := map[int64]time.Time{} // person pk → when the change that moves them committed
	var lat []time.Duration
	from, err := s.LastSeq(ctx)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	watcher := make(chan error, 1)
	go func() { // the feed reader
		cursor := from
		for {
			changed := s.Changed()
			cs, err := s.ChangesAfter(ctx, cursor, 1000)
			if err != nil {
				watcher <- err
				return
			}
			seen := time.Now()
			mu.Lock()
			for _, c := range cs {
				cursor = c.Seq
				if (c.Type == herald.ActSegmentEntered || c.Type == herald.ActSegmentExited) && c.Name == fmt.Sprint(seg.ID) {
					if t, ok := committedAt[c.PersonPK]; ok {
						lat = append(lat, seen.Sub(t))
						delete(committedAt, c.PersonPK)
					}
				}
			}
			mu.Unlock()
			select {
			case <-done:
				watcher <- nil
				return
			case <-changed:
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	tick := 10 * time.Millisecond
	perTick := cfg.Rate / 100
	deadline := time.Now().Add(cfg.Sustain)
	i := 0
	sent := 0
	for time.Now().Before(deadline) {
		next := time.Now().Add(tick)
		var ops []herald.Op
		var refs []string
		for range perTick {
			id := fmt.Sprintf("p%d", (i*7919)%cfg.Graph.People)
			plan := "vip"
			if (i/cfg.Graph.People)%2 == 1 {
				plan = "pro"
			}
			ops = append(ops, &herald.IdentifyPerson{Ref: herald.PersonRef{Kind: herald.ByID, Value: id}, Attributes: herald.Attributes{"plan": []byte(`"` + plan + `"`)}})
			refs = append(refs, id)
			i++
		}
		if _, err := s.Apply(ctx, ws, ops); err != nil {
			return err
		}
		at := time.Now()
		mu.Lock()
		for _, id := range refs {
			pk := int64(0)
			fmt.Sscanf(strings.TrimPrefix(id, "p"), "%d", &pk)
			committedAt[pk+1] = at // bench graph people have keys 1 … n in order
		}
		mu.Unlock()
		sent += len(ops)
		time.Sleep(time.Until(next))
	}
	time.Sleep(500 * time.Millisecond)
	close(done)
	if err := <-watcher; err != nil {
		return err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return fmt.Errorf("sustained: no membership change observed")
	}
	q := func(p float64) float64 { return ms(lat[min(len(lat)-1, int(p*float64(len(lat))))]) }
	fmt.Fprintf(out, "  sustained %d changes/s for %s: %d changes, %d membership changes observed; commit → membership change p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		cfg.Rate, cfg.Sustain, sent, len(lat), q(0.50), q(0.99), ms(lat[len(lat)-1]))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
