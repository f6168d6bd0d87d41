package store

import (
	"context"
	"sync"
	"time"
)

// PostgreSQL plans lookups from table statistics, and a table that grew from nothing in
// minutes (a first import) still has the statistics of an empty one: the planner then scans a
// whole workspace for each batch's lookups, and the import slows as it grows. autovacuum
// catches up only after a while, so the store analyzes a table itself once this process has
// inserted a good share of its rows since it last did.

// analyzer counts rows inserted per table and runs ANALYZE in the background when they pass
// the threshold.
type analyzer struct {
	mu       sync.Mutex
	inserted map[string]int64
	known    map[string]int64 // rows at the last ANALYZE
	running  map[string]bool
}

// analyzeAfter is the fewest inserted rows that trigger an ANALYZE; beyond it, a quarter of
// the rows the table had at the last one.
const analyzeAfter = 5000

func (s *Store) noteInserted(table string, n int) {
	if s.d.name() != "postgres" || n == 0 {
		return
	}
	a := &s.analyzer
	a.mu.Lock()
	if a.inserted == nil {
		a.inserted, a.known, a.running = map[string]int64{}, map[string]int64{}, map[string]bool{}
	}
	a.inserted[table] += int64(n)
	due := a.inserted[table] >= max(analyzeAfter, a.known[table]/4) && !a.running[table]
	if due {
		a.running[table] = true
		a.known[table] += a.inserted[table]
		a.inserted[table] = 0
	}
	a.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.w.ExecContext(ctx, "ANALYZE "+table) // best effort: autovacuum remains the backstop
		a.mu.Lock()
		a.running[table] = false
		a.mu.Unlock()
	}()
}
