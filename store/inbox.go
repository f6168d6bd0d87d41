package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/heraldhq/herald"
)

// PutInboxMessage puts a sent in-app message into person pk's inbox. Putting the same
// delivery twice (a retried send) keeps the first.
func (s *Store) PutInboxMessage(ctx context.Context, ws, pk int64, m herald.InboxMessage) error {
	now := s.now()
	if m.CreatedAt == 0 {
		m.CreatedAt = now
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO inbox_messages (delivery_id, workspace_id, person_pk, display_type, title, body, link, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?) ON CONFLICT (delivery_id) DO NOTHING`),
		m.DeliveryID, ws, pk, m.DisplayType, m.Title, m.Body, m.Link, m.CreatedAt, now)
	return err
}

// Inbox lists person pk's in-app messages that are not dismissed, newest first, at most limit.
func (s *Store) Inbox(ctx context.Context, ws, pk int64, limit int) ([]herald.InboxMessage, error) {
	rows, err := s.reader().QueryContext(ctx, s.q(`SELECT delivery_id, display_type, title, body, link, state, created_at FROM inbox_messages
		WHERE workspace_id = ? AND person_pk = ? AND state <> 'dismissed' ORDER BY created_at DESC, delivery_id LIMIT ?`), ws, pk, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.InboxMessage{}
	for rows.Next() {
		var m herald.InboxMessage
		if err := rows.Scan(&m.DeliveryID, &m.DisplayType, &m.Title, &m.Body, &m.Link, &m.State, &m.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetInboxState records what the reader did with an in-app message (opened, clicked,
// dismissed). It is NotFound unless the message is in person pk's inbox.
func (s *Store) SetInboxState(ctx context.Context, ws, pk int64, deliveryID, state string) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE inbox_messages SET state = ?, updated_at = ? WHERE workspace_id = ? AND person_pk = ? AND delivery_id = ?"),
		state, s.now(), ws, pk, deliveryID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return herald.Errorf(herald.NotFound, "delivery_id", "no message %q in this inbox", deliveryID)
	}
	return nil
}

// RelatedObjects returns up to limit objects of type typeID related to person pk, newest
// relationship first: what templates see as objects.<plural_slug>.
func (s *Store) RelatedObjects(ctx context.Context, pk int64, typeID, limit int) ([]herald.RelatedObject, error) {
	rows, err := s.reader().QueryContext(ctx, s.q(`SELECT o.object_id, o.cio_object_id, o.attributes, r.attributes
		FROM relationships r JOIN objects o ON o.pk = r.object_pk
		WHERE r.person_pk = ? AND o.type_id = ? ORDER BY r.created_at DESC, o.pk DESC LIMIT ?`), pk, typeID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.RelatedObject
	for rows.Next() {
		var ro herald.RelatedObject
		var attrs, rel []byte
		if err := rows.Scan(&ro.ObjectID, &ro.CioObjectID, &attrs, &rel); err != nil {
			return nil, err
		}
		ro.Attributes, ro.Relationship = append(json.RawMessage(nil), attrs...), append(json.RawMessage(nil), rel...)
		out = append(out, ro)
	}
	return out, rows.Err()
}

// ObjectTypeBySlug returns workspace ws's object type whose plural (or, with singular, singular)
// slug is slug.
func (s *Store) ObjectTypeBySlug(ctx context.Context, ws int64, slug string, singular bool) (*herald.ObjectType, error) {
	col := "slug"
	if singular {
		col = "singular_slug"
	}
	return scanObjectType(s.reader().QueryRowContext(ctx, s.q("SELECT "+typeCols+" FROM object_types WHERE workspace_id = ? AND "+col+" = ?"), ws, slug))
}

// Relationship returns the attributes of person pk's relationship to object objectPK;
// NotFound when they are not related.
func (s *Store) Relationship(ctx context.Context, pk, objectPK int64) (herald.Attributes, error) {
	var raw []byte
	err := s.reader().QueryRowContext(ctx, s.q("SELECT attributes FROM relationships WHERE person_pk = ? AND object_pk = ?"), pk, objectPK).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.Errorf(herald.NotFound, "object", "the person is not related to the object")
	}
	if err != nil {
		return nil, err
	}
	var a herald.Attributes
	var ts map[string]int64
	return a, decodeAttrs(raw, nil, &a, &ts)
}
