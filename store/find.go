package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/heraldhq/herald"
)

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// findPerson returns the person ref addresses from the transaction's state, loading it when
// the state does not know; nil when there is none.
func (w *writer) findPerson(ref herald.PersonRef) (*personRow, error) {
	k := personKey(ref)
	if p, ok := w.st.people[k]; ok {
		return p, nil
	}
	p, err := w.s.findPerson(w.ctx, w, w.ws, ref, w.s.d.forUpdate())
	if err != nil {
		return nil, err
	}
	if p == nil {
		w.st.people[k] = nil
		return nil, nil
	}
	return w.st.addPerson(p), nil
}

func (s *Store) findPerson(ctx context.Context, q queryer, ws int64, ref herald.PersonRef, lock string) (*personRow, error) {
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
	return scanPerson(q.QueryRowContext(ctx, s.q("SELECT "+personCols+" FROM people WHERE workspace_id = ? AND "+col+" = ?"+lock), ws, val))
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

// findObject returns the object ref addresses from state or the database, or nil when there
// is none. An unknown type is an error.
func (w *writer) findObject(ref herald.ObjectRef) (*objectRow, error) {
	if ref.CioObjectID == "" {
		if _, err := w.s.objectType(w.ctx, w, w.ws, ref.TypeID); err != nil {
			return nil, err
		}
	}
	k := objectKey(ref)
	if o, ok := w.st.objects[k]; ok {
		return o, nil
	}
	o, err := w.s.findObject(w.ctx, w, w.ws, ref, w.s.d.forUpdate())
	if err != nil {
		return nil, err
	}
	if o == nil {
		w.st.objects[k] = nil
		return nil, nil
	}
	return w.st.addObject(o), nil
}

func (s *Store) findObject(ctx context.Context, q queryer, ws int64, ref herald.ObjectRef, lock string) (*objectRow, error) {
	if ref.CioObjectID != "" {
		return scanObject(q.QueryRowContext(ctx, s.q("SELECT "+objectCols+" FROM objects WHERE workspace_id = ? AND cio_object_id = ?"+lock), ws, ref.CioObjectID))
	}
	if _, err := s.objectType(ctx, q, ws, ref.TypeID); err != nil {
		return nil, err
	}
	return scanObject(q.QueryRowContext(ctx, s.q("SELECT "+objectCols+" FROM objects WHERE workspace_id = ? AND type_id = ? AND object_id = ?"+lock), ws, ref.TypeID, ref.ObjectID))
}

// findRel returns the relationship between p and o from state or the database; nil when
// there is none.
func (w *writer) findRel(p *personRow, o *objectRow) (*relRow, error) {
	k := relKey{p, o}
	if r, ok := w.st.rels[k]; ok {
		return r, nil
	}
	if p.pk == 0 || o.pk == 0 { // not inserted yet: no relationship can exist
		w.st.rels[k] = nil
		return nil, nil
	}
	var raw, rawTS []byte
	r := &relRow{p: p, o: o}
	err := w.queryRow("SELECT attributes, attr_ts, created_at FROM relationships WHERE person_pk = ? AND object_pk = ?"+w.s.d.forUpdate(), p.pk, o.pk).Scan(&raw, &rawTS, &r.since)
	if errors.Is(err, sql.ErrNoRows) {
		w.st.rels[k] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := decodeAttrs(raw, rawTS, &r.attrs, &r.ts); err != nil {
		return nil, err
	}
	w.st.rels[k] = r
	return r, nil
}

type nullableString = sql.NullString

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
