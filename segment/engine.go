package segment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/feed"
)

// Store is what the engine needs of the storage (store.Store provides it).
type Store interface {
	Engine() string
	ChangesAfter(ctx context.Context, after int64, limit int) ([]herald.Change, error)
	Changed() <-chan struct{}
	Segments(ctx context.Context, ws int64) ([]*herald.Segment, error)
	QueryPKs(ctx context.Context, query string, args ...any) ([]int64, error)
	SegmentMemberPKs(ctx context.Context, id int64, pks []int64) ([]int64, error)
	RelatedPKs(ctx context.Context, ws int64, typeID int, objectID string) ([]int64, error)
	SetSegmentBuild(ctx context.Context, id, version int64, progress int, done bool, at int64) error
	SegmentRefreshedAt(ctx context.Context, id int64) (int64, error)
	EnsureRelationshipIndex(ctx context.Context, field string) error
	ClaimCursor(ctx context.Context, name, owner string, until int64) (int64, bool, error)
	SaveCursor(ctx context.Context, name, owner string, seq int64) error
	Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
	ApplyQuiet(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
}

// cursorName is the engine's position in the change feed.
const cursorName = "segments"

// Engine keeps data-driven segments current. One process at a time runs it per database
// (a lease on its cursor); the others stand by.
type Engine struct {
	Store Store
	Log   *slog.Logger
	// Now is the clock of timestamp rules and leases. Default time.Now.
	Now func() time.Time
	// Poll is how often the feed is read when no local commit wakes the engine (another
	// process's writes). Default 250ms.
	Poll time.Duration
	// Refresh is how often segments whose conditions move with time ("signed up more than 7
	// days ago", events within a window) are evaluated over everyone again. Default 10m.
	Refresh time.Duration
	// Lease is how long a claim on the feed lasts without renewal. Default 15s.
	Lease time.Duration

	owner string
	kick  chan struct{}

	// Only Step's goroutine touches these.
	feed      feed.Lease // the claim on the feed, and the position in it
	saved     int64      // position last saved
	savedAt   time.Time  // when it was saved
	loadedAt  time.Time  // when definitions were last read
	dirty     atomic.Bool
	refreshed map[int64]int64 // segment → last evaluation over everyone (unix seconds)
	checkedAt time.Time       // when refreshes were last looked for

	indexed map[string]bool    // relationship attributes whose index exists
	broken  map[int64]brokenAt // segments whose conditions the database refused

	mu       sync.Mutex
	compiled map[int64]*compiled // by segment id, for the segments' current versions
	// Processed is the last change sequence the engine has fully applied; tests wait on it.
	processed int64
	idle      *sync.Cond
}

type compiled struct {
	seg  *herald.Segment
	cond *herald.Cond
	deps deps
}

// NewEngine returns an engine on st with the defaults.
func NewEngine(st Store, log *slog.Logger) *Engine {
	b := make([]byte, 8)
	rand.Read(b)
	e := &Engine{Store: st, Log: log, Now: time.Now, Poll: 250 * time.Millisecond, Refresh: 10 * time.Minute,
		Lease: 15 * time.Second, owner: hex.EncodeToString(b), kick: make(chan struct{}, 1), compiled: map[int64]*compiled{}, indexed: map[string]bool{}, broken: map[int64]brokenAt{},
		refreshed: map[int64]int64{}}
	e.idle = sync.NewCond(&e.mu)
	e.feed = feed.Lease{Name: cursorName, Owner: e.owner}
	return e
}

// Kick asks the engine to look at segment definitions again (after a create or update).
func (e *Engine) Kick() {
	e.dirty.Store(true)
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run consumes the change feed until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	feed.Loop(ctx, "segment engine", e.Log, e.Store.Changed, e.kick, func(context.Context) time.Duration { return e.Poll }, e.Step)
	return nil
}

// Step does one round of work: builds due, a batch of the feed, scheduled refreshes. more
// reports that work remains.
func (e *Engine) Step(ctx context.Context) (more bool, err error) {
	now := e.Now()
	if ok, err := e.feed.Hold(ctx, e.Store, now, e.Lease); err != nil || !ok {
		return false, err
	}
	if e.dirty.Swap(false) || now.Sub(e.loadedAt) >= time.Second {
		if err := e.load(ctx); err != nil {
			e.dirty.Store(true)
			return false, err
		}
		e.loadedAt = now
	}
	if err := e.builds(ctx); err != nil {
		return false, err
	}
	changes, err := e.Store.ChangesAfter(ctx, e.feed.Seq, 1000)
	if err != nil {
		return false, err
	}
	if len(changes) > 0 {
		if err := e.apply(ctx, changes); err != nil {
			return false, err
		}
		e.feed.Seq = changes[len(changes)-1].Seq
		e.mu.Lock()
		e.processed = e.feed.Seq
		e.idle.Broadcast()
		e.mu.Unlock()
	}
	// Re-reading changes after a crash is harmless (membership is recomputed, not replayed),
	// so the cursor is saved at most twice a second, and whenever the feed is caught up.
	if e.feed.Seq > e.saved && (len(changes) < 1000 || now.Sub(e.savedAt) >= 500*time.Millisecond) {
		if err := e.Store.SaveCursor(ctx, cursorName, e.owner, e.feed.Seq); err != nil {
			return false, err
		}
		e.saved, e.savedAt = e.feed.Seq, now
	}
	if now.Sub(e.checkedAt) >= time.Second || len(changes) == 0 {
		if err := e.refreshes(ctx); err != nil {
			return false, err
		}
		e.checkedAt = now
	}
	return len(changes) == 1000, nil
}

// WaitFor blocks until the engine has applied every change up to seq, or ctx ends.
func (e *Engine) WaitFor(ctx context.Context, seq int64) error {
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.idle.Broadcast()
		e.mu.Unlock()
	})
	defer stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.processed < seq {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.idle.Wait()
	}
	return nil
}

// load refreshes the compiled segments from their definitions.
func (e *Engine) load(ctx context.Context) error {
	segs, err := e.Store.Segments(ctx, 0)
	if err != nil {
		return err
	}
	next := make(map[int64]*compiled, len(segs))
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range segs {
		if g.Type != herald.SegmentDynamic {
			continue
		}
		if c := e.compiled[g.ID]; c != nil && c.seg.Version == g.Version {
			c.seg = g
			next[g.ID] = c
			continue
		}
		cond, err := g.Parsed()
		if err != nil {
			e.Log.Error("segment conditions do not parse; skipped", "segment", g.ID, "err", err)
			continue
		}
		if b, ok := e.broken[g.ID]; ok && b.version == g.Version && e.Now().Sub(b.at) < time.Minute {
			continue // looked at again each minute: the refusal may have been passing
		}
		c := &compiled{seg: g, cond: cond, deps: analyze(cond)}
		if err := e.check(ctx, c); err != nil {
			e.broken[g.ID] = brokenAt{g.Version, e.Now()}
			// A segment the database cannot evaluate must not hold up the others.
			e.Log.Error("segment conditions cannot be evaluated; segment skipped until they change", "segment", g.ID, "err", err)
			continue
		}
		next[g.ID] = c
		for field := range c.deps.relIndexes {
			if e.indexed[field] {
				continue
			}
			if err := e.Store.EnsureRelationshipIndex(ctx, field); err != nil {
				return err
			}
			e.indexed[field] = true
		}
	}
	e.compiled = next
	return nil
}

// brokenAt is when a version of a segment's conditions was refused.
type brokenAt struct {
	version int64
	at      time.Time
}

// check runs a segment's compiled query over nobody, so that SQL the database refuses is
// found when the segment is loaded, not in the middle of maintaining every segment.
func (e *Engine) check(ctx context.Context, c *compiled) error {
	q, err := Compile(e.Store.Engine(), c.seg.WorkspaceID, c.cond, e.Now().Unix(), nil)
	if err != nil {
		return err
	}
	_, err = e.Store.QueryPKs(ctx, q.SQL+" LIMIT 0", q.Args...)
	return err
}

// ordered returns the compiled segments, those a segment depends on before it.
func (e *Engine) ordered() []*compiled {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*compiled
	done := map[int64]bool{}
	var visit func(c *compiled)
	visit = func(c *compiled) {
		if done[c.seg.ID] {
			return
		}
		done[c.seg.ID] = true
		for id := range c.deps.segments {
			if d := e.compiled[id]; d != nil {
				visit(d)
			}
		}
		out = append(out, c)
	}
	ids := make([]int64, 0, len(e.compiled))
	for id := range e.compiled {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		visit(e.compiled[id])
	}
	return out
}

// evaluate returns which people of pks (nil: everyone) match c now.
func (e *Engine) evaluate(ctx context.Context, c *compiled, pks []int64) ([]int64, error) {
	q, err := Compile(e.Store.Engine(), c.seg.WorkspaceID, c.cond, e.Now().Unix(), pks)
	if err != nil {
		return nil, err
	}
	out, err := e.Store.QueryPKs(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, fmt.Errorf("segment %d: %w", c.seg.ID, err)
	}
	return out, nil
}

// Preview evaluates conditions over workspace ws's people without saving a segment: the
// count and the keys of up to sample matching people (the UI's live count).
func (e *Engine) Preview(ctx context.Context, ws int64, conditions []byte, sample int) (int, []int64, error) {
	cond, err := herald.ParseConditions(conditions, "conditions")
	if err != nil {
		return 0, nil, err
	}
	pks, err := e.evaluate(ctx, &compiled{seg: &herald.Segment{WorkspaceID: ws}, cond: cond}, nil)
	if err != nil {
		return 0, nil, err
	}
	sort.Slice(pks, func(i, j int) bool { return pks[i] < pks[j] })
	return len(pks), pks[:min(sample, len(pks))], nil
}

// Processed returns the sequence number of the last change the engine has applied.
func (e *Engine) Processed() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.processed
}
