package store

import (
	"context"
	"database/sql"
)

// reader runs read queries on the reader pool. On SQLite, where parsing SQL is a large share
// of a small read, each query text is prepared once and the statement reused (database/sql
// prepares it again on each pooled connection as needed); pgx caches statements itself.
type reader struct{ s *Store }

func (s *Store) reader() reader { return reader{s} }

func (r reader) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := r.s.readStmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := r.s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := r.s.readStmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// QueryRowContext runs a one-row query (text already rebound with s.q).
func (r reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if r.s.d.name() != "sqlite" {
		return r.s.r.QueryRowContext(ctx, query, args...)
	}
	st, err := r.stmt(ctx, query)
	if err != nil {
		return r.s.r.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryContext runs a query (text already rebound with s.q).
func (r reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if r.s.d.name() != "sqlite" {
		return r.s.r.QueryContext(ctx, query, args...)
	}
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
