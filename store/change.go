package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/heraldhq/herald"
)

const changeCols = "seq, workspace_id, type, timestamp, person_pk, customer, object_type_id, object_id, cio_object_id, name, quiet, data"

func scanChange(row interface{ Scan(...any) error }) (herald.Change, error) {
	var c herald.Change
	var person, typeID sql.NullInt64
	var customer, data []byte
	var objectID, cioObjectID, name sql.NullString
	if err := row.Scan(&c.Seq, &c.WorkspaceID, &c.Type, &c.Timestamp, &person, &customer, &typeID, &objectID, &cioObjectID, &name, &c.Quiet, &data); err != nil {
		return c, err
	}
	c.PersonPK, c.Name = person.Int64, name.String
	if len(customer) > 0 {
		c.Customer = &herald.Identifiers{}
		if err := json.Unmarshal(customer, c.Customer); err != nil {
			return c, err
		}
	}
	if typeID.Valid {
		c.Object = &herald.ObjectIdentity{TypeID: int(typeID.Int64), ObjectID: objectID.String, CioObjectID: cioObjectID.String}
	}
	if len(data) > 0 {
		c.Data = json.RawMessage(data)
	}
	return c, nil
}

// ChangesAfter returns up to limit change records with Seq > after, of every workspace, in
// commit order: the feed the engines consume, resuming from the last Seq they processed.
func (s *Store) ChangesAfter(ctx context.Context, after int64, limit int) ([]herald.Change, error) {
	return s.changes(ctx, "SELECT "+changeCols+" FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
}

// Activities returns a workspace's change records newest first, before seq page.After (when
// non-zero), and the cursor of the next page.
func (s *Store) Activities(ctx context.Context, ws int64, f herald.ActivityFilter, page herald.Page) ([]herald.Change, int64, error) {
	var where strings.Builder
	args := []any{ws}
	where.WriteString("workspace_id = ?")
	if page.After > 0 {
		where.WriteString(" AND seq < ?")
		args = append(args, page.After)
	}
	if recorded, typeID, ok := herald.RelationshipTypeFilter(f.Type); ok {
		where.WriteString(" AND type = ? AND object_type_id = ?")
		args = append(args, recorded, typeID)
	} else if f.Type != "" {
		where.WriteString(" AND type = ?")
		args = append(args, f.Type)
	}
	if f.Name != "" {
		where.WriteString(" AND name = ?")
		args = append(args, f.Name)
	}
	if f.PersonPK != 0 {
		where.WriteString(" AND person_pk = ?")
		args = append(args, f.PersonPK)
	}
	if f.Object != nil {
		where.WriteString(" AND object_type_id = ? AND object_id = ?")
		args = append(args, f.Object.TypeID, f.Object.ObjectID)
	}
	limit := page.PageLimit()
	args = append(args, limit+1)
	out, err := s.changes(ctx, "SELECT "+changeCols+" FROM changes WHERE "+where.String()+" ORDER BY seq DESC LIMIT ?", args...)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Seq
	}
	return out, next, nil
}

func (s *Store) changes(ctx context.Context, query string, args ...any) ([]herald.Change, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.Change{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
