package store

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/heraldhq/herald"
)

// rowsPerInsert bounds the rows of one multi-row statement (SQLite allows 32766 parameters,
// PostgreSQL 65535).
const rowsPerInsert = 400

// flushRows writes the state's new and changed rows: people and objects first (allocating
// their keys), then relationships and events.
func (w *writer) flushRows() error {
	st := w.st
	if !st.pending() {
		return nil
	}
	w.mutated = true
	if err := w.allocate(); err != nil {
		return err
	}
	// Updates first: they may free an identifier a new row takes. New rows are plain inserts
	// (their keys are fresh, so there is no conflict to arbitrate; PostgreSQL's speculative
	// insertion would cost an extra index probe and WAL record per row).
	personArgs := func(list []*personRow) func(int) []any {
		return func(i int) []any {
			p := list[i]
			return []any{p.pk, w.ws, p.cioID, nullString(p.extID), nullString(p.email), nullString(herald.NormalizeEmail(p.email)),
				nullString(p.anonID), encodeJSON(p.attrs), encodeJSON(p.ts), p.createdAt, p.updatedAt}
		}
	}
	const personInsert = `INSERT INTO people (pk, workspace_id, cio_id, ext_id, email, email_norm, anonymous_id, attributes, attr_ts, created_at, updated_at) VALUES `
	if err := w.upsert(personInsert, 11, len(st.dirtyPeople), personArgs(st.dirtyPeople), ` ON CONFLICT (pk) DO UPDATE SET ext_id = excluded.ext_id, email = excluded.email, email_norm = excluded.email_norm,
			anonymous_id = excluded.anonymous_id, attributes = excluded.attributes, attr_ts = excluded.attr_ts, updated_at = excluded.updated_at`); err != nil {
		return fmt.Errorf("write people: %w", err)
	}
	if err := w.upsert(personInsert, 11, len(st.newPeople), personArgs(st.newPeople), ""); err != nil {
		return fmt.Errorf("write people: %w", err)
	}
	people := append(st.dirtyPeople, st.newPeople...)
	objects := append(st.dirtyObjects, st.newObjects...)
	objectArgs := func(list []*objectRow) func(int) []any {
		return func(i int) []any {
			o := list[i]
			return []any{o.pk, w.ws, o.typeID, o.objectID, o.cioID, encodeJSON(o.attrs), encodeJSON(o.ts), o.createdAt, o.updatedAt}
		}
	}
	const objectInsert = `INSERT INTO objects (pk, workspace_id, type_id, object_id, cio_object_id, attributes, attr_ts, created_at, updated_at) VALUES `
	if err := w.upsert(objectInsert, 9, len(st.dirtyObjects), objectArgs(st.dirtyObjects),
		` ON CONFLICT (pk) DO UPDATE SET attributes = excluded.attributes, attr_ts = excluded.attr_ts, updated_at = excluded.updated_at`); err != nil {
		return fmt.Errorf("write objects: %w", err)
	}
	if err := w.upsert(objectInsert, 9, len(st.newObjects), objectArgs(st.newObjects), ""); err != nil {
		return fmt.Errorf("write objects: %w", err)
	}
	rels := st.dirtyRels
	var added, changed []*relRow
	for _, r := range rels {
		if r.isNew {
			added = append(added, r)
		} else {
			changed = append(changed, r)
		}
	}
	relRow := func(list []*relRow) func(int) []any {
		return func(i int) []any {
			r := list[i]
			return []any{w.ws, r.p.pk, r.o.pk, encodeJSON(r.attrs), encodeJSON(r.ts), r.since, w.now}
		}
	}
	const relInsert = `INSERT INTO relationships (workspace_id, person_pk, object_pk, attributes, attr_ts, created_at, updated_at) VALUES `
	// A new relationship is a plain insert: if a concurrent transaction added it first, the
	// unique violation re-runs this one, which then sees it and merges instead of overwriting.
	if err := w.upsert(relInsert, 7, len(added), relRow(added), ""); err != nil {
		return fmt.Errorf("write relationships: %w", err)
	}
	if err := w.upsert(relInsert, 7, len(changed), relRow(changed),
		` ON CONFLICT (person_pk, object_pk) DO UPDATE SET attributes = excluded.attributes, attr_ts = excluded.attr_ts, updated_at = excluded.updated_at`); err != nil {
		return fmt.Errorf("write relationships: %w", err)
	}
	events := st.events
	if err := w.upsert(`INSERT INTO events (workspace_id, person_pk, anonymous_id, name, type, dedupe_id, timestamp, data, created_at) VALUES `,
		9, len(events), func(i int) []any {
			e := events[i]
			var person sql.NullInt64
			if e.p != nil {
				person = sql.NullInt64{Int64: e.p.pk, Valid: true}
			}
			var data sql.NullString
			if len(e.e.Data) > 0 {
				data = sql.NullString{String: string(e.e.Data), Valid: true}
			}
			return []any{w.ws, person, nullString(e.anonID), e.e.Name, string(e.e.Type), nullString(e.e.DedupeID), e.ts, data, w.now}
		}, ""); err != nil { // a concurrent insert of the same event id re-runs the transaction, which then skips it
		return fmt.Errorf("write events: %w", err)
	}
	w.inserted["people"] += len(st.newPeople)
	w.inserted["objects"] += len(st.newObjects)
	w.inserted["relationships"] += len(added)
	w.inserted["events"] += len(events)
	for _, p := range people {
		p.isNew, p.dirty = false, false
	}
	for _, o := range objects {
		o.isNew, o.dirty = false, false
	}
	for _, r := range rels {
		r.isNew, r.dirty = false, false
	}
	st.newPeople, st.dirtyPeople, st.newObjects, st.dirtyObjects, st.dirtyRels, st.events = nil, nil, nil, nil, nil, nil
	return nil
}

// allocate assigns primary keys to new people and objects, in one query per table.
func (w *writer) allocate() error {
	if n := len(w.st.newPeople); n > 0 {
		keys, err := w.s.d.allocate(w, "people", n, &w.nextPersonPK)
		if err != nil {
			return fmt.Errorf("allocate person keys: %w", err)
		}
		for i, p := range w.st.newPeople {
			p.pk = keys[i]
			w.st.byPK[p.pk] = p
		}
	}
	if n := len(w.st.newObjects); n > 0 {
		keys, err := w.s.d.allocate(w, "objects", n, &w.nextObjectPK)
		if err != nil {
			return fmt.Errorf("allocate object keys: %w", err)
		}
		for i, o := range w.st.newObjects {
			o.pk = keys[i]
			w.st.objByPK[o.pk] = o
		}
	}
	return nil
}

// upsert writes n rows of cols values each with prefix … suffix, rowsPerInsert at a time.
func (w *writer) upsert(prefix string, cols, n int, row func(int) []any, suffix string) error {
	one := "(" + placeholders(cols) + ")"
	if w.s.d.name() == "sqlite" {
		return w.execPrepared(prefix, one, suffix, cols, n, row)
	}
	for start := 0; start < n; start += rowsPerInsert {
		end := min(start+rowsPerInsert, n)
		var b strings.Builder
		b.WriteString(prefix)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, row(i)...)
		}
		b.WriteString(suffix)
		if _, err := w.exec(b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// sqliteChunk is the rows of one prepared multi-row statement on SQLite. Parsing SQL is a large
// share of a SQLite write, so statements are prepared once and kept (see Store.prepareWanted):
// a fixed-size chunk statement, and a single-row one for the remainder, cost one call into the
// driver per chunk instead of one per row.
const sqliteChunk = 32

// execPrepared writes n rows of cols values each with prefix … suffix through the prepared
// chunk and single-row statements.
func (w *writer) execPrepared(prefix, one, suffix string, cols, n int, row func(int) []any) error {
	if n == 0 {
		return nil
	}
	w.mutated = true
	i := 0
	if n >= sqliteChunk {
		st := w.conn(prefix + strings.TrimSuffix(strings.Repeat(one+", ", sqliteChunk), ", ") + suffix)
		args := make([]any, 0, sqliteChunk*cols)
		for ; i+sqliteChunk <= n; i += sqliteChunk {
			args = args[:0]
			for j := i; j < i+sqliteChunk; j++ {
				args = append(args, row(j)...)
			}
			if _, err := st.ExecContext(w.ctx, args...); err != nil {
				return err
			}
		}
	}
	if i < n {
		st := w.conn(prefix + one + suffix)
		for ; i < n; i++ {
			if _, err := st.ExecContext(w.ctx, row(i)...); err != nil {
				return err
			}
		}
	}
	return nil
}
