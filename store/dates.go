package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/heraldhq/herald"
)

// herald.DateValues returns every value of attribute attr in workspace ws: of people (on
// "person"), of objects of typeID ("object"), or of relationships to objects of typeID
// ("relationship"). Values are the attribute's text; the caller reads them as unix seconds.
func (s *Store) DateValues(ctx context.Context, ws int64, on string, typeID int, attr string, withTimezone bool) ([]herald.DateValue, error) {
	get := func(col, field string) string {
		if s.d.name() == "postgres" {
			return col + " ->> " + "?::text"
		}
		return "json_extract(" + col + ", ?)"
	}
	key := func(field string) any {
		if s.d.name() == "postgres" {
			return field
		}
		return `$."` + field + `"`
	}
	tz, tzArgs := "''", []any{}
	if withTimezone {
		tz, tzArgs = "COALESCE("+get("p.attributes", "timezone")+", '')", []any{key("timezone")}
	}
	var q string
	var args []any
	switch on {
	case "person":
		q = "SELECT p.pk, '', " + get("p.attributes", attr) + ", " + tz + " FROM people p WHERE p.workspace_id = ?"
		args = append(append([]any{key(attr)}, tzArgs...), ws)
	case "object":
		q = "SELECT 0, o.object_id, " + get("o.attributes", attr) + ", '' FROM objects o WHERE o.workspace_id = ? AND o.type_id = ?"
		args = []any{key(attr), ws, typeID}
	case "relationship":
		q = "SELECT p.pk, o.object_id, " + get("r.attributes", attr) + ", " + tz + ` FROM relationships r
			JOIN objects o ON o.pk = r.object_pk JOIN people p ON p.pk = r.person_pk WHERE o.workspace_id = ? AND o.type_id = ?`
		args = append(append([]any{key(attr)}, tzArgs...), ws, typeID)
	default:
		return nil, herald.Errorf(herald.Invalid, "trigger.on", "must be person, object or relationship, got %q", on)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("date values: %w", err)
	}
	defer rows.Close()
	var out []herald.DateValue
	for rows.Next() {
		var v herald.DateValue
		var value, zone sql.NullString
		if err := rows.Scan(&v.PersonPK, &v.ObjectID, &value, &zone); err != nil {
			return nil, err
		}
		if !value.Valid {
			continue
		}
		v.Value, v.Timezone = value.String, zone.String
		out = append(out, v)
	}
	return out, rows.Err()
}
