package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldhq/herald"
)

// QueryPKs runs a read-only query (a compiled segment condition, written with ? placeholders)
// whose single column is a person's key, on the read pool.
func (s *Store) QueryPKs(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("segment query: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var pk int64
		if err := rows.Scan(&pk); err != nil {
			return nil, err
		}
		out = append(out, pk)
	}
	return out, rows.Err()
}

// SegmentMemberPKs returns which of pks are members of segment id; nil pks means all members.
func (s *Store) SegmentMemberPKs(ctx context.Context, id int64, pks []int64) ([]int64, error) {
	if pks == nil {
		return s.QueryPKs(ctx, "SELECT person_pk FROM segment_members WHERE segment_id = ?", id)
	}
	var out []int64
	for start := 0; start < len(pks); start += 500 {
		chunk := pks[start:min(start+500, len(pks))]
		in, args := s.d.in("person_pk", int64s(chunk))
		got, err := s.QueryPKs(ctx, "SELECT person_pk FROM segment_members WHERE segment_id = ? AND "+in, append([]any{id}, args...)...)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// SegmentCount returns how many people segment id has.
func (s *Store) SegmentCount(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM segment_members WHERE segment_id = ?"), id).Scan(&n)
	return n, err
}

// SegmentMembers returns a page of segment id's members in key order, and the cursor of the
// next page (0 at the end).
func (s *Store) SegmentMembers(ctx context.Context, id int64, page herald.Page) ([]herald.Identifiers, int64, error) {
	limit := page.PageLimit()
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT m.person_pk, p.cio_id, p.ext_id, p.email FROM segment_members m
		JOIN people p ON p.pk = m.person_pk WHERE m.segment_id = ? AND m.person_pk > ? ORDER BY m.person_pk LIMIT ?`), id, page.After, limit+1)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []herald.Identifiers{}
	var pks []int64
	for rows.Next() {
		var pk int64
		var cio string
		var ext, email *string
		if err := rows.Scan(&pk, &cio, &ext, &email); err != nil {
			return nil, 0, err
		}
		id := herald.Identifiers{CioID: cio}
		if ext != nil {
			id.ID = *ext
		}
		if email != nil {
			id.Email = *email
		}
		out, pks = append(out, id), append(pks, pk)
	}
	var next int64
	if len(out) > limit {
		out, next = out[:limit], pks[limit-1]
	}
	return out, next, rows.Err()
}

// PersonSegments returns the segments person pk belongs to.
func (s *Store) PersonSegments(ctx context.Context, ws, pk int64) ([]*herald.Segment, error) {
	cols := "g." + strings.ReplaceAll(segmentCols, ", ", ", g.")
	return s.segments(ctx, s.r, "SELECT "+cols+" FROM segment_members m JOIN segments g ON g.id = m.segment_id WHERE m.person_pk = ? AND g.workspace_id = ? ORDER BY g.id", pk, ws)
}

// RelatedPKs returns the keys of the people related to object (typeID, objectID) of workspace ws.
func (s *Store) RelatedPKs(ctx context.Context, ws int64, typeID int, objectID string) ([]int64, error) {
	return s.QueryPKs(ctx, `SELECT r.person_pk FROM objects o JOIN relationships r ON r.object_pk = o.pk
		WHERE o.workspace_id = ? AND o.type_id = ? AND o.object_id = ?`, ws, typeID, objectID)
}

func int64s(xs []int64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// PeopleIdentifiers returns the identifiers of the people with keys pks, in that order
// (people that are gone are left out).
func (s *Store) PeopleIdentifiers(ctx context.Context, pks []int64) ([]herald.Identifiers, error) {
	byPK, err := s.PeopleByPK(ctx, pks)
	if err != nil {
		return nil, err
	}
	out := []herald.Identifiers{}
	for _, pk := range pks {
		if id, ok := byPK[pk]; ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// PeopleByPK returns the identifiers of the people with keys pks, by key (people that are
// gone are left out).
func (s *Store) PeopleByPK(ctx context.Context, pks []int64) (map[int64]herald.Identifiers, error) {
	byPK := make(map[int64]herald.Identifiers, len(pks))
	for start := 0; start < len(pks); start += 500 {
		in, args := s.d.in("pk", int64s(pks[start:min(start+500, len(pks))]))
		rows, err := s.r.QueryContext(ctx, s.d.rebind("SELECT pk, cio_id, ext_id, email FROM people WHERE "+in), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pk int64
			var id herald.Identifiers
			var ext, email *string
			if err := rows.Scan(&pk, &id.CioID, &ext, &email); err != nil {
				rows.Close()
				return nil, err
			}
			if ext != nil {
				id.ID = *ext
			}
			if email != nil {
				id.Email = *email
			}
			byPK[pk] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return byPK, nil
}
