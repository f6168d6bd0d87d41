package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/heraldhq/herald"
)

// RawRow is one entity of a raw batched upsert: a person, an object with one relationship, a
// relationship between an existing person and object, or an event (by Kind: "person",
// "object", "object-only" (no relationship), "relationship", "event").
type RawRow struct {
	Kind       string
	PersonID   string
	Email      string
	ObjectType int
	ObjectID   string
	Name       string
	Attributes herald.Attributes
	RelAttrs   herald.Attributes
}

// RawUpsert writes rows straight into the tables with multi-row upserts in one transaction:
// no validation, no diff, no change records. It exists as the baseline that benchmarks
// measure the write path against; nothing in Herald writes through it.
//
// Like the write path, it counts the rows it inserts, so that PostgreSQL's statistics follow
// the tables' growth (see analyzer); a baseline planned on empty-table statistics slows down
// as it runs.
func (s *Store) RawUpsert(ctx context.Context, ws int64, rows []RawRow) error {
	counts := map[string]int{}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		clear(counts)
		now := s.now()
		var people, objects, rels, events []any
		var np, no, nr, ne int
		for _, r := range rows {
			switch r.Kind {
			case "person":
				people = append(people, ws, s.newEntityID(""), r.PersonID, nullString(r.Email), nullString(herald.NormalizeEmail(r.Email)), encodeJSON(r.Attributes), "{}", now, now)
				np++
			case "object":
				cio := s.newEntityID("ob")
				objects = append(objects, ws, r.ObjectType, r.ObjectID, cio, encodeJSON(r.Attributes), "{}", now, now)
				no++
				rels = append(rels, ws, r.PersonID, ws, r.ObjectType, r.ObjectID, encodeJSON(r.RelAttrs), now, now)
				nr++
			case "object-only":
				objects = append(objects, ws, r.ObjectType, r.ObjectID, s.newEntityID("ob"), encodeJSON(r.Attributes), "{}", now, now)
				no++
			case "relationship":
				rels = append(rels, ws, r.PersonID, ws, r.ObjectType, r.ObjectID, encodeJSON(r.RelAttrs), now, now)
				nr++
			case "event":
				events = append(events, ws, ws, r.PersonID, r.Name, "event", encodeJSON(r.Attributes), now, now)
				ne++
			}
		}
		stmts := []struct {
			table  string
			n      int
			cols   int
			prefix string
			one    string
			suffix string
			args   []any
		}{
			{"people", np, 9, "INSERT INTO people (workspace_id, cio_id, ext_id, email, email_norm, attributes, attr_ts, created_at, updated_at) VALUES ", "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
				" ON CONFLICT (workspace_id, ext_id) WHERE ext_id IS NOT NULL DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at", people},
			{"objects", no, 8, "INSERT INTO objects (workspace_id, type_id, object_id, cio_object_id, attributes, attr_ts, created_at, updated_at) VALUES ", "(?, ?, ?, ?, ?, ?, ?, ?)",
				" ON CONFLICT (workspace_id, type_id, object_id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at", objects},
			{"relationships", nr, 8, "INSERT INTO relationships (workspace_id, person_pk, object_pk, attributes, created_at, updated_at) SELECT v.ws, p.pk, o.pk, v.attrs, v.c, v.u FROM (", "",
				"", rels},
			{"events", ne, 8, "INSERT INTO events (workspace_id, person_pk, name, type, data, timestamp, created_at) SELECT v.ws, p.pk, v.name, v.typ, v.data, v.ts, v.c FROM (", "", "", events},
		}
		for i, st := range stmts {
			if st.n == 0 {
				continue
			}
			counts[st.table] += st.n
			var q strings.Builder
			q.WriteString(st.prefix)
			switch i {
			case 0, 1:
				q.WriteString(strings.TrimSuffix(strings.Repeat(st.one+", ", st.n), ", "))
			case 2:
				rowsSQL := make([]string, st.n)
				for j := range rowsSQL {
					rowsSQL[j] = "SELECT ? AS ws, ? AS pid, ? AS ows, ? AS tid, ? AS oid, ? AS attrs, ? AS c, ? AS u"
				}
				q.WriteString(strings.Join(rowsSQL, " UNION ALL "))
				q.WriteString(") v JOIN people p ON p.workspace_id = v.ws AND p.ext_id = v.pid JOIN objects o ON o.workspace_id = v.ows AND o.type_id = v.tid AND o.object_id = v.oid")
				q.WriteString(" WHERE true ON CONFLICT (person_pk, object_pk) DO UPDATE SET attributes = excluded.attributes")
			case 3:
				rowsSQL := make([]string, st.n)
				for j := range rowsSQL {
					rowsSQL[j] = "SELECT ? AS ws, ? AS pws, ? AS pid, ? AS name, ? AS typ, ? AS data, ? AS ts, ? AS c"
				}
				q.WriteString(strings.Join(rowsSQL, " UNION ALL "))
				q.WriteString(") v JOIN people p ON p.workspace_id = v.pws AND p.ext_id = v.pid")
			}
			q.WriteString(st.suffix)
			if _, err := tx.ExecContext(ctx, s.q(s.d.castRaw(q.String())), st.args...); err != nil {
				return fmt.Errorf("raw upsert %d: %w", i, err)
			}
		}
		return nil
	})
	if err == nil {
		for table, n := range counts {
			s.noteInserted(table, n)
		}
	}
	return err
}
