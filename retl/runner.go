package retl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/importer"
)

// Store is what syncs need of storage.
type Store interface {
	importer.Writer
	DueSyncs(ctx context.Context, now int64) ([]herald.Sync, error)
	ClaimSync(ctx context.Context, id, now int64) (bool, error)
	FinishSync(ctx context.Context, id int64, succeededFrom int64) error
	SaveSyncRun(ctx context.Context, r *herald.SyncRun) error
}

// Runner runs syncs, on demand and on their schedules.
type Runner struct {
	store Store
	log   *slog.Logger
	// Now is the clock; tests replace it. Default time.Now.
	Now func() time.Time
	// Client fetches CSV sources. Default: a 5-minute timeout.
	Client *http.Client
	// BatchSize is the rows per write transaction. Default 500.
	BatchSize int

	mu      sync.Mutex
	running map[int64]bool // syncs this process is running on schedule
}

// NewRunner returns a Runner writing through s.
func NewRunner(s Store, log *slog.Logger) *Runner {
	return &Runner{store: s, log: log, Now: time.Now, Client: &http.Client{Timeout: 5 * time.Minute}, BatchSize: 500, running: map[int64]bool{}}
}

// maxRunErrors bounds the refused rows a run keeps.
const maxRunErrors = 100

// Run runs sy once and records the run. When another run of sy is going (here or in another
// process), it waits for it to finish first. The error return is for a run that could not be
// recorded; a failed run is reported in the run's State and Error.
func (r *Runner) Run(ctx context.Context, sy *herald.Sync) (*herald.SyncRun, error) {
	var start int64
	for {
		start = r.Now().Unix()
		ok, err := r.store.ClaimSync(ctx, sy.ID, start)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	run := &herald.SyncRun{SyncID: sy.ID, State: "running", StartedAt: start}
	if err := r.store.SaveSyncRun(ctx, run); err != nil {
		r.store.FinishSync(context.Background(), sy.ID, 0)
		return nil, err
	}
	began := time.Now()
	err := r.execute(ctx, sy, run)
	run.FinishedAt, run.DurationMS = r.Now().Unix(), time.Since(began).Milliseconds()
	succeeded := int64(0)
	if err != nil {
		run.State, run.Error = "failed", err.Error()
	} else {
		run.State, succeeded = "succeeded", start
	}
	if e := r.store.FinishSync(context.Background(), sy.ID, succeeded); e != nil {
		return run, e
	}
	return run, r.store.SaveSyncRun(context.Background(), run)
}

func (r *Runner) execute(ctx context.Context, sy *herald.Sync, run *herald.SyncRun) error {
	if strings.HasPrefix(sy.Source, "http://") || strings.HasPrefix(sy.Source, "https://") {
		return r.csv(ctx, sy, run)
	}
	src, err := openSource(sy.Source)
	if err != nil {
		return err
	}
	defer src.db.Close()
	m := newMapper(sy)
	size := r.BatchSize
	var ops []herald.Op
	var rowNums []int
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		errs, err := r.store.Apply(ctx, sy.WorkspaceID, ops)
		if err != nil {
			return err
		}
		for i, op := range ops {
			if errs[i] != nil {
				runFail(run, rowNums[i], errs[i].Error())
				continue
			}
			if changed(op) {
				run.RowsChanged++
			}
		}
		ops, rowNums = ops[:0], rowNums[:0]
		return nil
	}
	err = src.rows(ctx, sy.Query, sy.LastSyncTime, func(cols []string, vals []any) error {
		run.RowsRead++
		op, err := m.op(cols, vals)
		if err != nil {
			runFail(run, run.RowsRead, err.Error())
			return nil
		}
		ops, rowNums = append(ops, op), append(rowNums, run.RowsRead)
		if len(ops) >= size {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// csv imports a CSV source (a published spreadsheet) with the importer.
func (r *Runner) csv(ctx context.Context, sy *herald.Sync, run *herald.SyncRun) error {
	kinds := map[string]importer.Kind{"identify": importer.People, "objects": importer.Objects, "relationships": importer.Relationships}
	kind, ok := kinds[sy.Call]
	if !ok {
		return herald.Errorf(herald.Unsupported, "call", "a CSV source can identify people, objects or relationships")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", sy.Source, nil)
	if err != nil {
		return err
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch the CSV: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch the CSV: the server answered %s", resp.Status)
	}
	identifier := ""
	for _, k := range []string{"id", "email", "cio_id"} {
		if _, ok := sy.Mapping[k]; ok {
			identifier = k
		}
	}
	sum, err := importer.Import(ctx, r.store, sy.WorkspaceID, io.LimitReader(resp.Body, 1<<30), importer.Options{Kind: kind, TypeID: sy.ObjectTypeID, Identifier: identifier})
	run.RowsRead, run.RowsChanged = sum.Rows, sum.Created+sum.Updated
	for _, e := range sum.Errors {
		runFail(run, e.Line, e.Reason)
	}
	return err
}

func runFail(run *herald.SyncRun, row int, reason string) {
	run.RowsFailed++
	if len(run.Errors) < maxRunErrors {
		run.Errors = append(run.Errors, herald.RowIssue{Row: row, Reason: reason})
	}
}

// changed reports whether an applied op changed anything it reports on.
func changed(op herald.Op) bool {
	var o herald.Outcome
	switch op := op.(type) {
	case *herald.IdentifyPerson:
		o = op.Result.Outcome
	case *herald.IdentifyObject:
		o = op.Result.Outcome
	case *herald.PersonRelationships:
		o = op.Result.Outcome
	default:
		return true // events: recorded
	}
	return o == herald.OutcomeCreated || o == herald.OutcomeUpdated
}

// Schedule runs due syncs until ctx ends, checking every interval.
func (r *Runner) Schedule(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due, err := r.store.DueSyncs(ctx, r.Now().Unix())
		if err != nil {
			r.log.Error("due syncs", "err", err)
			continue
		}
		for _, sy := range due {
			r.mu.Lock()
			busy := r.running[sy.ID]
			r.running[sy.ID] = true
			r.mu.Unlock()
			if busy {
				continue // still running: the next run waits for it
			}
			wg.Add(1)
			go func(sy herald.Sync) {
				defer wg.Done()
				defer func() { r.mu.Lock(); delete(r.running, sy.ID); r.mu.Unlock() }()
				run, err := r.Run(ctx, &sy)
				if err != nil {
					r.log.Error("sync run", "sync", sy.Name, "err", err)
					return
				}
				r.log.Info("sync run", "sync", sy.Name, "state", run.State, "read", run.RowsRead, "changed", run.RowsChanged, "failed", run.RowsFailed)
			}(sy)
		}
	}
}
