package store

import (
	"context"
	"sync"
	"time"
)

// suppressionCache remembers which workspaces have no suppressions, so that the common case
// costs no query. A "none" answer is trusted for a short while only, because another herald
// process on the same PostgreSQL may add one.
type suppressionCache struct {
	mu   sync.Mutex
	seen map[int64]suppressionState // lazily made
}

type suppressionState struct {
	has     bool
	checked time.Time
}

const suppressionRecheck = 2 * time.Second

func (s *Store) mayHaveSuppressions(ctx context.Context, q queryer, ws int64) bool {
	s.suppressions.mu.Lock()
	st, ok := s.suppressions.seen[ws]
	s.suppressions.mu.Unlock()
	if ok && (st.has || time.Since(st.checked) < suppressionRecheck) {
		return st.has
	}
	var n int
	if err := q.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM suppressions WHERE workspace_id = ?"), ws).Scan(&n); err != nil {
		return true // unknown: check each identifier
	}
	s.suppressions.mu.Lock()
	s.suppressions.set(ws, suppressionState{has: n > 0, checked: time.Now()})
	s.suppressions.mu.Unlock()
	return n > 0
}

func (s *Store) noteSuppressions(ws int64) {
	s.suppressions.mu.Lock()
	s.suppressions.set(ws, suppressionState{has: true, checked: time.Now()})
	s.suppressions.mu.Unlock()
}

func (c *suppressionCache) set(ws int64, st suppressionState) {
	if c.seen == nil {
		c.seen = map[int64]suppressionState{}
	}
	c.seen[ws] = st
}
