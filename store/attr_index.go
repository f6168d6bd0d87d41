package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
)

// EnsureRelationshipIndex creates, once, an index on relationships over (object_pk, the text
// of attribute field, person_pk): with it, "related to these objects where the relationship's
// field is X" reads only the index, never the relationships' attributes. The segment engine
// asks for it for every relationship attribute its segments compare for equality. The
// expression is the one the segment compiler writes for that comparison (its keyExpr).
func (s *Store) EnsureRelationshipIndex(ctx context.Context, field string) error {
	if strings.ContainsAny(field, "\"\\") {
		return fmt.Errorf("attribute index: field %q holds a quote or backslash", field)
	}
	h := fnv.New64a()
	h.Write([]byte(field))
	name := fmt.Sprintf("relationships_attr_%016x", h.Sum64())
	lit := func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
	var q string
	if s.d.name() == "postgres" {
		// CONCURRENTLY: writes go on while it builds.
		q = "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + name + " ON relationships (object_pk, (attributes ->> " + lit(field) + "), person_pk)"
	} else {
		q = "CREATE INDEX IF NOT EXISTS " + name + " ON relationships (object_pk, json_extract(attributes, " + lit(`$."`+field+`"`) + "), person_pk)"
	}
	if _, err := s.w.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create index on relationship attribute %q: %w", field, err)
	}
	return nil
}
