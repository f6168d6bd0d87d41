package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/heraldhq/herald"
)

const typeCols = "id, name, singular_name, slug, singular_slug, enabled, icon, created_at"

func scanObjectType(row interface{ Scan(...any) error }) (*herald.ObjectType, error) {
	var t herald.ObjectType
	err := row.Scan(&t.ID, &t.Name, &t.SingularName, &t.Slug, &t.SingularSlug, &t.Enabled, &t.Icon, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "object_type_id", "object type not found")
	}
	return &t, err
}

// CreateObjectType creates a type with the next id (from 1) in workspace ws.
func (s *Store) CreateObjectType(ctx context.Context, ws int64, t herald.ObjectType) (*herald.ObjectType, error) {
	if err := herald.ValidateObjectType(&t); err != nil {
		return nil, err
	}
	var out *herald.ObjectType
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkSlugsFree(ctx, tx, ws, 0, &t); err != nil {
			return err
		}
		var err error
		out, err = scanObjectType(tx.QueryRowContext(ctx, s.q(`INSERT INTO object_types
			(workspace_id, id, name, singular_name, slug, singular_slug, enabled, icon, created_at)
			VALUES (?, (SELECT COALESCE(MAX(id), 0) + 1 FROM object_types WHERE workspace_id = ?), ?, ?, ?, ?, ?, ?, ?)
			RETURNING `+typeCols), ws, ws, t.Name, t.SingularName, t.Slug, t.SingularSlug, true, t.Icon, s.now()))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cacheType(ws, out)
	return out, nil
}

// UpdateObjectType renames type id (its id never changes) and sets its icon and enabled flag.
func (s *Store) UpdateObjectType(ctx context.Context, ws int64, t herald.ObjectType) (*herald.ObjectType, error) {
	if err := herald.ValidateObjectType(&t); err != nil {
		return nil, err
	}
	var out *herald.ObjectType
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkSlugsFree(ctx, tx, ws, t.ID, &t); err != nil {
			return err
		}
		var err error
		out, err = scanObjectType(tx.QueryRowContext(ctx, s.q(`UPDATE object_types
			SET name = ?, singular_name = ?, slug = ?, singular_slug = ?, enabled = ?, icon = ?
			WHERE workspace_id = ? AND id = ? RETURNING `+typeCols),
			t.Name, t.SingularName, t.Slug, t.SingularSlug, t.Enabled, t.Icon, ws, t.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cacheType(ws, out)
	return out, nil
}

func (s *Store) checkSlugsFree(ctx context.Context, tx *sql.Tx, ws int64, self int, t *herald.ObjectType) error {
	var n int
	err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM object_types WHERE workspace_id = ? AND id <> ?
		AND (slug IN (?, ?) OR singular_slug IN (?, ?))`), ws, self, t.Slug, t.SingularSlug, t.Slug, t.SingularSlug).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return herald.Errorf(herald.Conflict, "name", "another object type already uses the slug %q or %q", t.Slug, t.SingularSlug)
	}
	return nil
}

// ObjectType returns type id of workspace ws.
func (s *Store) ObjectType(ctx context.Context, ws int64, id int) (*herald.ObjectType, error) {
	return scanObjectType(s.r.QueryRowContext(ctx, s.q("SELECT "+typeCols+" FROM object_types WHERE workspace_id = ? AND id = ?"), ws, id))
}

// ObjectTypes lists workspace ws's types in id order.
func (s *Store) ObjectTypes(ctx context.Context, ws int64) ([]herald.ObjectType, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT "+typeCols+" FROM object_types WHERE workspace_id = ? ORDER BY id"), ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.ObjectType
	for rows.Next() {
		t, err := scanObjectType(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}
