package store

import (
	"context"
	"fmt"
)

// ClaimCursor takes or renews the lease on the change-feed cursor called name for owner until
// the unix time until, and returns the position the cursor is at. ok is false while another
// owner's lease runs: only one process at a time consumes a feed, so that N herald
// processes on one database never do an engine's work twice.
func (s *Store) ClaimCursor(ctx context.Context, name, owner string, until int64) (seq int64, ok bool, err error) {
	now := s.now()
	if _, err := s.w.ExecContext(ctx, s.q("INSERT INTO engine_cursors (name) VALUES (?) ON CONFLICT (name) DO NOTHING"), name); err != nil {
		return 0, false, fmt.Errorf("create cursor %s: %w", name, err)
	}
	res, err := s.w.ExecContext(ctx, s.q("UPDATE engine_cursors SET owner = ?, lease_until = ? WHERE name = ? AND (owner = ? OR lease_until < ?)"), owner, until, name, owner, now)
	if err != nil {
		return 0, false, fmt.Errorf("claim cursor %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	err = s.w.QueryRowContext(ctx, s.q("SELECT seq FROM engine_cursors WHERE name = ?"), name).Scan(&seq)
	return seq, err == nil, err
}

// SaveCursor moves cursor name to seq, if owner still holds it.
func (s *Store) SaveCursor(ctx context.Context, name, owner string, seq int64) error {
	if _, err := s.w.ExecContext(ctx, s.q("UPDATE engine_cursors SET seq = ? WHERE name = ? AND owner = ? AND seq < ?"), seq, name, owner, seq); err != nil {
		return fmt.Errorf("save cursor %s: %w", name, err)
	}
	return nil
}

// LastSeq returns the newest change record's sequence number (0 when there is none).
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	var seq *int64
	err := s.r.QueryRowContext(ctx, "SELECT MAX(seq) FROM changes").Scan(&seq)
	if seq == nil {
		return 0, err
	}
	return *seq, err
}
