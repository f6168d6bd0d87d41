package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxAttempts bounds how often a write transaction is re-run after losing a race with a
// concurrent one (PostgreSQL) or after an op had to be excluded from its batch.
const maxAttempts = 8

// errCommit marks a failed COMMIT: whether the transaction took effect is unknown, so it
// must not be applied again as if it had not.
var errCommit = errors.New("commit")

// withTx runs fn in a write transaction, committing when it returns nil and re-running it when
// the engine reports a conflict with a concurrent transaction.
func (s *Store) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = s.runTx(ctx, fn)
		if err == nil || !s.d.retryable(err) || ctx.Err() != nil || errors.Is(err, errCommit) {
			return err
		}
	}
	return err
}

func (s *Store) runTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", errCommit, err)
	}
	return nil
}
