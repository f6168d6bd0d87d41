package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/heraldhq/herald"
)

// findPerson loads the person ref addresses, or nil when there is none.
func (w *writer) findPerson(ref herald.PersonRef) (*personRow, error) {
	return w.s.findPerson(w.ctx, w, w.ws, ref)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) findPerson(ctx context.Context, q queryer, ws int64, ref herald.PersonRef) (*personRow, error) {
	var col, val = "", ref.Value
	switch ref.Kind {
	case herald.ByID:
		col = "ext_id"
	case herald.ByEmail:
		col, val = "email_norm", herald.NormalizeEmail(ref.Value)
	case herald.ByCioID:
		col = "cio_id"
	case herald.ByAnonymousID:
		col = "anonymous_id"
	default:
		return nil, herald.Errorf(herald.Invalid, "identifiers", "unknown identifier type %q", ref.Kind)
	}
	return scanPerson(q.QueryRowContext(ctx, s.q("SELECT "+personCols+" FROM people WHERE workspace_id = ? AND "+col+" = ?"), ws, val))
}

// objectType returns workspace ws's type id, or a NotFound error that names it.
func (s *Store) objectType(ctx context.Context, q queryer, ws int64, id int) (*herald.ObjectType, error) {
	s.typesMu.RLock()
	t := s.types[typeKey{ws, id}]
	s.typesMu.RUnlock()
	if t != nil {
		return t, nil
	}
	t, err := scanObjectType(q.QueryRowContext(ctx, s.q("SELECT "+typeCols+" FROM object_types WHERE workspace_id = ? AND id = ?"), ws, id))
	if herald.ErrorCode(err) == herald.NotFound {
		return nil, herald.Errorf(herald.NotFound, "identifiers.object_type_id", "object type %d does not exist; create it first (POST /v1/object_types)", id)
	}
	if err != nil {
		return nil, err
	}
	s.cacheType(ws, t)
	return t, nil
}

func (s *Store) cacheType(ws int64, t *herald.ObjectType) {
	s.typesMu.Lock()
	s.types[typeKey{ws, t.ID}] = t
	s.typesMu.Unlock()
}

// findObject loads the object ref addresses, or nil when there is none. An unknown type is
// an error.
func (w *writer) findObject(ref herald.ObjectRef) (*objectRow, error) {
	return w.s.findObject(w.ctx, w, w.ws, ref)
}

func (s *Store) findObject(ctx context.Context, q queryer, ws int64, ref herald.ObjectRef) (*objectRow, error) {
	if ref.CioObjectID != "" {
		return scanObject(q.QueryRowContext(ctx, s.q("SELECT "+objectCols+" FROM objects WHERE workspace_id = ? AND cio_object_id = ?"), ws, ref.CioObjectID))
	}
	if _, err := s.objectType(ctx, q, ws, ref.TypeID); err != nil {
		return nil, err
	}
	return scanObject(q.QueryRowContext(ctx, s.q("SELECT "+objectCols+" FROM objects WHERE workspace_id = ? AND type_id = ? AND object_id = ?"), ws, ref.TypeID, ref.ObjectID))
}

type nullableString = sql.NullString

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }
