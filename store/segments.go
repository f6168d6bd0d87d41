package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/heraldhq/herald"
)

const segmentCols = "id, workspace_id, name, description, type, conditions, state, progress, version, built_version, created_at, updated_at"

func scanSegment(row interface{ Scan(...any) error }) (*herald.Segment, error) {
	var g herald.Segment
	var cond []byte
	err := row.Scan(&g.ID, &g.WorkspaceID, &g.Name, &g.Description, &g.Type, &cond, &g.State, &g.Progress, &g.Version, &g.BuiltVersion, &g.CreatedAt, &g.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "", "segment not found")
	}
	if len(cond) > 0 {
		g.Conditions = append([]byte(nil), cond...)
	}
	return &g, err
}

// Segment returns segment id of workspace ws.
func (s *Store) Segment(ctx context.Context, ws, id int64) (*herald.Segment, error) {
	return scanSegment(s.r.QueryRowContext(ctx, s.q("SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? AND id = ?"), ws, id))
}

// Segments returns workspace ws's segments by id; ws 0 means every workspace's.
func (s *Store) Segments(ctx context.Context, ws int64) ([]*herald.Segment, error) {
	q, args := "SELECT "+segmentCols+" FROM segments ORDER BY id", []any{}
	if ws != 0 {
		q, args = "SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? ORDER BY id", []any{ws}
	}
	return s.segments(ctx, s.r, q, args...)
}

func (s *Store) segments(ctx context.Context, db queryer, q string, args ...any) ([]*herald.Segment, error) {
	rows, err := db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*herald.Segment{}
	for rows.Next() {
		g, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// CreateSegment validates and stores a new segment; a data-driven one starts in state build,
// for the segment engine to evaluate over everyone.
func (s *Store) CreateSegment(ctx context.Context, ws int64, g herald.Segment) (*herald.Segment, error) {
	if err := herald.ValidateSegment(&g); err != nil {
		return nil, err
	}
	var out *herald.Segment
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkSegmentRefs(ctx, tx, ws, 0, g.Conditions); err != nil {
			return err
		}
		now := s.now()
		state := herald.SegmentFinished
		if g.Type == herald.SegmentDynamic {
			state = herald.SegmentBuilding
		}
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO segments (workspace_id, name, description, type, conditions, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), ws, g.Name, g.Description, g.Type, nullJSON(g.Conditions), state, now, now).Scan(&id)
		if err != nil {
			return err
		}
		out, err = scanSegment(tx.QueryRowContext(ctx, s.q("SELECT "+segmentCols+" FROM segments WHERE id = ?"), id))
		return err
	})
	return out, err
}

// UpdateSegment changes a segment's name, description and, for a data-driven segment, its
// conditions; new conditions start a new build. A segment keeps its type.
func (s *Store) UpdateSegment(ctx context.Context, ws, id int64, g herald.Segment) (*herald.Segment, error) {
	var out *herald.Segment
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanSegment(tx.QueryRowContext(ctx, s.q("SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? AND id = ?"+s.d.forUpdate()), ws, id))
		if err != nil {
			return err
		}
		if g.Name == "" {
			g.Name = cur.Name
		}
		if g.Conditions == nil {
			g.Conditions = cur.Conditions
		}
		if err := herald.ValidateSegment(&g); err != nil {
			return err
		}
		if g.Type != cur.Type {
			return herald.Errorf(herald.Invalid, "segment.conditions", "a %s segment cannot become %s; create a new segment", cur.Type, g.Type)
		}
		if err := s.checkSegmentRefs(ctx, tx, ws, id, g.Conditions); err != nil {
			return err
		}
		version, state := cur.Version, cur.State
		if g.Type == herald.SegmentDynamic && !jsonEqual(g.Conditions, cur.Conditions) {
			version, state = version+1, herald.SegmentBuilding
		}
		_, err = tx.ExecContext(ctx, s.q("UPDATE segments SET name = ?, description = ?, conditions = ?, version = ?, state = ?, updated_at = ? WHERE id = ?"),
			g.Name, g.Description, nullJSON(g.Conditions), version, state, s.now(), id)
		if err != nil {
			return err
		}
		out, err = scanSegment(tx.QueryRowContext(ctx, s.q("SELECT "+segmentCols+" FROM segments WHERE id = ?"), id))
		return err
	})
	return out, err
}

// DeleteSegment deletes a segment and its memberships. A segment that another segment's
// conditions name cannot be deleted.
func (s *Store) DeleteSegment(ctx context.Context, ws, id int64) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := scanSegment(tx.QueryRowContext(ctx, s.q("SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? AND id = ?"), ws, id)); err != nil {
			return err
		}
		all, err := s.segments(ctx, tx, "SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? ORDER BY id", ws)
		if err != nil {
			return err
		}
		for _, g := range all {
			c, _ := g.Parsed()
			for _, ref := range c.SegmentRefs() {
				if ref == id {
					return herald.Errorf(herald.Conflict, "segment_id", "segment %d is used by segment %d (%s); change that one first", id, g.ID, g.Name)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM segment_members WHERE segment_id = ?"), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q("DELETE FROM segments WHERE id = ?"), id)
		return err
	})
}

// checkSegmentRefs refuses conditions that name a segment of another workspace, a missing
// one, or that would make segment self (0 for a new one) depend on itself.
func (s *Store) checkSegmentRefs(ctx context.Context, tx *sql.Tx, ws, self int64, conditions []byte) error {
	if len(conditions) == 0 {
		return nil
	}
	c, err := herald.ParseConditions(conditions, "segment.conditions")
	if err != nil || len(c.SegmentRefs()) == 0 {
		return err
	}
	all, err := s.segments(ctx, tx, "SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? ORDER BY id", ws)
	if err != nil {
		return err
	}
	deps := map[int64][]int64{}
	for _, g := range all {
		gc, _ := g.Parsed()
		deps[g.ID] = gc.SegmentRefs()
	}
	deps[self] = c.SegmentRefs()
	for _, ref := range deps[self] {
		if _, ok := deps[ref]; !ok || ref == 0 {
			return herald.Errorf(herald.NotFound, "segment.conditions", "segment %d named in the conditions does not exist", ref)
		}
	}
	// Depth-first search from self: reaching self again is a cycle.
	seen := map[int64]bool{}
	var visit func(id int64) bool
	visit = func(id int64) bool {
		for _, next := range deps[id] {
			if next == self || (!seen[next] && func() bool { seen[next] = true; return visit(next) }()) {
				return true
			}
		}
		return false
	}
	if self != 0 && visit(self) {
		return herald.Errorf(herald.Invalid, "segment.conditions", "the conditions make segment %d depend on itself", self)
	}
	return nil
}

// SetSegmentBuild records the progress (percent) of a build of segment id's conditions at
// version; done marks them evaluated over everyone at time at. A build of conditions that
// have changed since is not recorded: the next build is due.
func (s *Store) SetSegmentBuild(ctx context.Context, id, version int64, progress int, done bool, at int64) error {
	q, args := "UPDATE segments SET progress = ? WHERE id = ? AND version = ?", []any{progress, id, version}
	if done {
		q = "UPDATE segments SET state = 'finished', progress = 100, built_version = ?, refreshed_at = ? WHERE id = ? AND version = ?"
		args = []any{version, at, id, version}
	}
	if _, err := s.w.ExecContext(ctx, s.q(q), args...); err != nil {
		return fmt.Errorf("record segment build: %w", err)
	}
	return nil
}

// SegmentRefreshedAt returns when segment id was last evaluated over everyone.
func (s *Store) SegmentRefreshedAt(ctx context.Context, id int64) (int64, error) {
	var t int64
	err := s.r.QueryRowContext(ctx, s.q("SELECT refreshed_at FROM segments WHERE id = ?"), id).Scan(&t)
	return t, err
}

// jsonEqual compares two JSON documents by value (PostgreSQL reformats what it stores).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
