// Package journey runs campaigns: it matches the change feed against running campaigns'
// triggers, starts journeys for the right people (no fan-out cap), and runs their workflow
// steps as durable state, so that restarts and crashes resume journeys where they were and a
// step run again never sends twice.
package journey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/feed"
)

// Store is what the engine needs of storage (store.Store provides it).
type Store interface {
	Engine() string
	ChangesAfter(ctx context.Context, after int64, limit int) ([]herald.Change, error)
	Changed() <-chan struct{}
	ClaimCursor(ctx context.Context, name, owner string, until int64) (int64, bool, error)
	SaveCursor(ctx context.Context, name, owner string, seq int64) error
	Campaigns(ctx context.Context, ws int64) ([]*herald.Campaign, error)
	Campaign(ctx context.Context, ws, id int64) (*herald.Campaign, error)
	CampaignDefinition(ctx context.Context, id, version int64) ([]byte, error)
	StartJourneys(ctx context.Context, js []*herald.Journey) ([]*herald.Journey, error)
	ClaimJourneys(ctx context.Context, now int64, owner string, until int64, limit int) ([]*herald.Journey, error)
	SaveJourneys(ctx context.Context, owner string, js []*herald.Journey, counts [][]herald.StepCount) ([]bool, error)
	NextJourneyDue(ctx context.Context) (int64, error)
	RelatedPKs(ctx context.Context, ws int64, typeID int, objectID string) ([]int64, error)
	DateValues(ctx context.Context, ws int64, on string, typeID int, attr string, withTimezone bool) ([]herald.DateValue, error)
	LatestCampaignDelivery(ctx context.Context, ws, pk, campaignID, since int64) (id, status string, err error)
	ExitJourneys(ctx context.Context, campaignID, pk int64, reason string) (int64, error)
	CountCampaignMetric(ctx context.Context, campaignID int64, step, metric string, n int64) error
	Segment(ctx context.Context, ws, id int64) (*herald.Segment, error)
	SegmentMemberPKs(ctx context.Context, id int64, pks []int64) ([]int64, error)
	QueryPKs(ctx context.Context, query string, args ...any) ([]int64, error)
	PeopleByPK(ctx context.Context, pks []int64) (map[int64]herald.Identifiers, error)
	Person(ctx context.Context, ws int64, ref herald.PersonRef) (*herald.Person, error)
	Object(ctx context.Context, ws int64, ref herald.ObjectRef) (*herald.Object, error)
	Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
}

// Sender sends a workflow's messages (the delivery service provides it): many requests of
// one workspace recorded in one write; ds[i] and errs[i] are reqs[i]'s delivery and failure.
type Sender interface {
	SendMany(ctx context.Context, reqs []herald.SendRequest) (ds []*herald.Delivery, errs []error, err error)
}

const cursorName = "journeys"

// Engine starts and runs journeys. Several processes on one database share the running of
// journeys (each claims due journeys by lease); one at a time matches the feed.
type Engine struct {
	Store  Store
	Sender Sender
	Log    *slog.Logger
	// Now is the clock of delays, windows and leases. Default time.Now.
	Now func() time.Time
	// Poll is how often the engine looks for work when nothing wakes it. Default 250ms.
	Poll time.Duration
	// WaitPoll is how often a wait_until step checks its condition. Default 1m.
	WaitPoll time.Duration
	// Lease is how long a claim on the feed or on a journey lasts. Default 30s.
	Lease time.Duration
	// Batch is how many people enter, or how many journeys run, per transaction. Default 500.
	Batch int
	// DateScan is how often date triggers are looked at. Default 1m.
	DateScan time.Duration

	owner string
	kick  chan struct{}

	feed     feed.Lease         // the claim on the feed, and the position in it
	datesAt  time.Time          // the last scan of date triggers
	entering *[]*herald.Journey // while matching a batch of the feed: the journeys to start at its end

	mu   sync.Mutex
	defs map[[2]int64]*herald.CampaignDef // (campaign, version) → parsed definition
	// processed is the last change the matcher has applied; tests wait on it.
	processed int64
	idle      *sync.Cond
}

// New returns an engine on st sending through sender, with the defaults.
func New(st Store, sender Sender, log *slog.Logger) *Engine {
	b := make([]byte, 8)
	rand.Read(b)
	e := &Engine{Store: st, Sender: sender, Log: log, Now: time.Now, Poll: 250 * time.Millisecond, WaitPoll: time.Minute,
		Lease: 30 * time.Second, Batch: 500, DateScan: time.Minute, owner: hex.EncodeToString(b), kick: make(chan struct{}, 1), defs: map[[2]int64]*herald.CampaignDef{}}
	e.idle = sync.NewCond(&e.mu)
	e.feed = feed.Lease{Name: cursorName, Owner: e.owner}
	return e
}

// Kick wakes the engine (a campaign started, journeys were started by API).
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run matches the feed and runs due journeys until ctx ends, waking for commits, kicks and
// the next due journey.
func (e *Engine) Run(ctx context.Context) error {
	feed.Loop(ctx, "journey engine", e.Log, e.Store.Changed, e.kick, e.untilDue, e.Step)
	return nil
}

// untilDue is how long to wait for work: the poll interval, or less when a journey is due
// sooner.
func (e *Engine) untilDue(ctx context.Context) time.Duration {
	wait := e.Poll
	if next, err := e.Store.NextJourneyDue(ctx); err == nil && next > 0 {
		if d := time.Until(time.Unix(next, 0)); d < wait {
			wait = max(d, 10*time.Millisecond)
		}
	}
	return wait
}

// Step matches one batch of the feed and runs one batch of due journeys; more reports that
// work remains.
func (e *Engine) Step(ctx context.Context) (more bool, err error) {
	matched, err := e.match(ctx)
	if err != nil {
		return false, err
	}
	if err := e.dates(ctx); err != nil {
		return false, err
	}
	ran, err := e.runDue(ctx)
	if err != nil {
		return false, err
	}
	return matched || ran, nil
}

// Processed returns the last change the matcher has applied.
func (e *Engine) Processed() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.processed
}

// definition returns the parsed definition of a campaign's version.
func (e *Engine) definition(ctx context.Context, id, version int64) (*herald.CampaignDef, error) {
	key := [2]int64{id, version}
	e.mu.Lock()
	d := e.defs[key]
	e.mu.Unlock()
	if d != nil {
		return d, nil
	}
	raw, err := e.Store.CampaignDefinition(ctx, id, version)
	if err != nil {
		return nil, err
	}
	if d, err = herald.ParseCampaign(raw, "campaign"); err != nil {
		return nil, fmt.Errorf("campaign %d version %d: %w", id, version, err)
	}
	e.mu.Lock()
	e.defs[key] = d
	e.mu.Unlock()
	return d, nil
}
