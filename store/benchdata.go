package store

import (
	"context"
	"fmt"
	"strings"
)

// BenchGraph sizes the synthetic graph GenerateBenchGraph writes.
type BenchGraph struct {
	People    int // people p0 … p{n-1}: plan free|pro|enterprise, score, signed_up
	Objects   int // objects o0 …: 40% accounts (type 1, portfolio_amount 0–49,999), 30% events (2), 30% courses (3)
	PerPerson int // relationships per person (user_role admin for one in ten, else contributor)
	Events    int // ticket_bought events per person, at most (person i has i mod (Events+1))
	Hot       int // people p0 … p{Hot-1} also related, as admins, to account "hot" (portfolio 5,000)
}

// GenerateBenchGraph fills an empty workspace with a synthetic graph, for the segment
// benchmark, by SQL that generates the rows inside the database. Like RawUpsert it writes the
// tables directly, with no change records; nothing in Herald writes through it. Object types
// 1, 2 and 3 must exist.
func (s *Store) GenerateBenchGraph(ctx context.Context, ws int64, g BenchGraph, now int64) error {
	var n int64
	if err := s.r.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM people WHERE workspace_id = ?"), ws).Scan(&n); err != nil || n > 0 {
		return fmt.Errorf("bench graph needs an empty workspace (people: %d, err: %v)", n, err)
	}
	series, obj, text := "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) ", "json_object", "printf('%%08x', %s)"
	if s.d.name() == "postgres" {
		series, obj, text = "WITH n(i) AS (SELECT generate_series(0, ?::bigint - 1)) ", "jsonb_build_object", "lpad(to_hex(%s), 8, '0')"
	}
	const from = "FROM n"
	hex := func(expr string) string { return fmt.Sprintf(text, expr) }
	stmts := []struct {
		q    string
		args []any
	}{
		{series + `INSERT INTO people (workspace_id, cio_id, ext_id, attributes, attr_ts, created_at, updated_at)
			SELECT ?, 'b' || ` + hex("n.i") + `, 'p' || n.i, ` + obj + `('id', 'p' || n.i,
				'plan', CASE n.i % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'enterprise' END,
				'score', n.i % 1000, 'signed_up', ? - (n.i % 365) * 86400), '{}', ?, ? ` + from + ` ORDER BY n.i`,
			[]any{g.People, ws, now, now, now}},
		{series + `INSERT INTO objects (workspace_id, type_id, object_id, cio_object_id, attributes, attr_ts, created_at, updated_at)
			SELECT ?, CASE WHEN n.i * 10 < ? * 4 THEN 1 WHEN n.i * 10 < ? * 7 THEN 2 ELSE 3 END, 'o' || n.i, 'ob' || ` + hex("n.i") + `,
				` + obj + `('name', 'Object ' || n.i, 'portfolio_amount', (n.i * 7919) % 50000,
				'city', CASE n.i % 4 WHEN 0 THEN 'Madison WI' WHEN 1 THEN 'Austin TX' WHEN 2 THEN 'Oslo' ELSE 'Lyon' END), '{}', ?, ? ` + from + ` ORDER BY n.i`,
			[]any{g.Objects, ws, g.Objects, g.Objects, now, now}},
		{`INSERT INTO objects (workspace_id, type_id, object_id, cio_object_id, attributes, attr_ts, created_at, updated_at)
			VALUES (?, 1, 'hot', 'obhot', ` + obj + `('name', 'Hot account', 'portfolio_amount', 5000), '{}', ?, ?)`, []any{ws, now, now}},
		{series + `INSERT INTO relationships (workspace_id, person_pk, object_pk, attributes, attr_ts, created_at, updated_at)
			SELECT ?, p0.pk + n.i / ?, o0.pk + ((n.i / ?) * 37 + (n.i % ?) * 16661) % ?,
				` + obj + `('user_role', CASE WHEN (n.i / ? + n.i % ?) % 10 = 0 THEN 'admin' ELSE 'contributor' END,
				'enrollment_status', CASE n.i % 2 WHEN 0 THEN 'enrolled' ELSE 'interested' END), '{}', ?, ?
			` + from + `, (SELECT MIN(pk) AS pk FROM people WHERE workspace_id = ?) p0, (SELECT MIN(pk) AS pk FROM objects WHERE workspace_id = ?) o0`,
			[]any{g.People * g.PerPerson, ws, g.PerPerson, g.PerPerson, g.PerPerson, g.Objects, g.PerPerson, g.PerPerson, now, now, ws, ws}},
		{series + `INSERT INTO relationships (workspace_id, person_pk, object_pk, attributes, attr_ts, created_at, updated_at)
			SELECT ?, p0.pk + n.i, h.pk, ` + obj + `('user_role', 'admin'), '{}', ?, ?
			` + from + `, (SELECT MIN(pk) AS pk FROM people WHERE workspace_id = ?) p0, (SELECT pk FROM objects WHERE workspace_id = ? AND object_id = 'hot') h`,
			[]any{g.Hot, ws, now, now, ws, ws}},
		{series + `INSERT INTO events (workspace_id, person_pk, name, type, timestamp, data, created_at)
			SELECT ?, p0.pk + n.i / ?, 'ticket_bought', 'event', ? - (n.i % 60) * 86400, ` + obj + `('seats', n.i % 4), ?
			` + from + `, (SELECT MIN(pk) AS pk FROM people WHERE workspace_id = ?) p0 WHERE n.i % ? < (n.i / ?) % ?`,
			[]any{g.People * g.Events, ws, g.Events, now, now, ws, g.Events, g.Events, g.Events + 1}},
	}
	for _, st := range stmts {
		if n, ok := st.args[0].(int); ok && strings.HasPrefix(st.q, "WITH") && n == 0 {
			continue // a series of no rows (the recursive one would still yield its first)
		}
		if _, err := s.w.ExecContext(ctx, s.d.rebind(st.q), st.args...); err != nil {
			return fmt.Errorf("generate bench graph: %w", err)
		}
	}
	// Fresh statistics, and on PostgreSQL a visibility map (as autovacuum would leave it) so
	// that index-only scans are possible.
	stmt := "ANALYZE"
	if s.d.name() == "postgres" {
		stmt = "VACUUM ANALYZE"
	}
	_, err := s.w.ExecContext(ctx, stmt)
	return err
}
