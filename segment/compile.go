// Package segment is Herald's segment engine: it compiles condition trees to SQL for SQLite
// and PostgreSQL, builds data-driven segments over everyone, and keeps them current from the
// change feed, re-evaluating only the people a change can affect.
package segment

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald"
)

// Query is compiled SQL with ? placeholders and its arguments; no value is ever part of the
// text.
type Query struct {
	SQL  string
	Args []any
}

// Compile returns the query selecting the keys of workspace ws's people that match c at time
// now (unix seconds), for dialect "sqlite" or "postgres"; a nil c matches everyone. With
// pks it is restricted to those people.
//
// The plan is chosen for the scope: over everyone, relationship and event conditions are sets
// computed from the objects (or events) side — a type's objects filtered first, then their
// relationships — and people are matched against them; for a few people the same conditions
// are correlated lookups from each person's own relationships and events.
func Compile(dialect string, ws int64, c *herald.Cond, now int64, pks []int64) (Query, error) {
	if dialect != "sqlite" && dialect != "postgres" {
		return Query{}, fmt.Errorf("segment: unknown SQL dialect %q", dialect)
	}
	k := &compiler{pg: dialect == "postgres", ws: ws, now: now, few: pks != nil}
	if pks == nil && c != nil && (c.Related != nil || c.Event != nil) {
		// A relationship or event condition alone over everyone: its set of people is the
		// answer, with no pass over the people table.
		k.direct = true
		if k.cond(c); k.directSQL != "" {
			return Query{SQL: k.directSQL, Args: k.args}, nil
		}
		k.direct, k.args = false, nil // a count that holds for zero: the people table it is
	}
	expr := "(1 = 1)" // no conditions: everyone
	if c != nil {
		expr = k.cond(c)
	}
	var b strings.Builder
	args := []any{ws}
	b.WriteString("SELECT p.pk FROM people p WHERE p.workspace_id = ?")
	if pks != nil {
		if len(pks) == 0 {
			return Query{SQL: "SELECT p.pk FROM people p WHERE 1 = 0"}, nil
		}
		b.WriteString(" AND p.pk IN (")
		for i, pk := range pks {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
			args = append(args, pk)
		}
		b.WriteByte(')')
	}
	b.WriteString(" AND ")
	b.WriteString(expr)
	return Query{SQL: b.String(), Args: append(args, k.args...)}, nil
}

type compiler struct {
	pg   bool
	ws   int64
	now  int64
	few  bool // restricted to a few people: correlated plans
	args []any
	// direct asks set to give its query as the whole answer (directSQL) when it can.
	direct    bool
	directSQL string
	// negated counts the NOTs above the node being compiled: below one, a comparison must
	// not be NULL (NOT NULL filters like NULL, not like NOT false).
	negated int
}

// entity is what an attribute leaf reads: a JSON column, and a plain column for object_id.
type entity struct {
	json     string
	objectID string
}

var (
	personEntity       = entity{json: "p.attributes"}
	objectEntity       = entity{json: "o.attributes", objectID: "o.object_id"}
	relationshipEntity = entity{json: "r.attributes"}
	eventEntity        = entity{json: "e.data"}
)

// arg records v and returns its placeholder, so that text and arguments stay in order as
// long as pieces are written in the order they are made.
func (k *compiler) arg(v any) string {
	k.args = append(k.args, v)
	return "?"
}

func (k *compiler) cond(c *herald.Cond) string {
	return k.node(c, personEntity)
}

// node compiles c. Its result is NULL only where that filters as false would.
func (k *compiler) node(c *herald.Cond, e entity) string {
	switch {
	case c.And != nil || c.Or != nil:
		items, sep := c.And, " AND "
		if c.Or != nil {
			items, sep = c.Or, " OR "
		}
		parts := make([]string, len(items))
		for i, x := range items {
			parts[i] = k.node(x, e)
		}
		return "(" + strings.Join(parts, sep) + ")"
	case c.Not != nil:
		k.negated++
		defer func() { k.negated-- }()
		return "(NOT " + k.node(c.Not, e) + ")"
	case c.Attr != nil:
		return k.attr(c.Attr, e)
	case c.Segment != 0:
		return "p.pk IN (SELECT m.person_pk FROM segment_members m WHERE m.segment_id = " + k.arg(c.Segment) + ")"
	case c.Event != nil:
		return k.event(c.Event)
	case c.Related != nil:
		return k.related(c.Related)
	}
	return "(1 = 0)"
}

func (k *compiler) event(ev *herald.EventCond) string {
	defer k.subquery()()
	var f strings.Builder
	if !k.few {
		f.WriteString("e.workspace_id = " + k.arg(k.ws) + " AND e.person_pk IS NOT NULL AND ")
	}
	f.WriteString("e.name = " + k.arg(ev.Name))
	if ev.WithinDays > 0 {
		f.WriteString(" AND e.timestamp >= " + k.arg(float64(k.now)-ev.WithinDays*herald.SecondsPerDay))
	}
	if ev.From != 0 || ev.To != 0 {
		f.WriteString(" AND e.timestamp >= " + k.arg(ev.From) + " AND e.timestamp <= " + k.arg(ev.To))
	}
	if ev.Data != nil {
		f.WriteString(" AND " + k.node(ev.Data, eventEntity))
	}
	if k.few {
		return k.correlated("FROM events e WHERE e.person_pk = p.pk AND "+f.String(), ev.Count)
	}
	return k.set("e.person_pk", "FROM events e WHERE "+f.String(), ev.Count)
}

func (k *compiler) related(r *herald.RelatedCond) string {
	defer k.subquery()()
	var f strings.Builder
	if !k.few {
		f.WriteString("o.workspace_id = " + k.arg(k.ws) + " AND ")
	}
	f.WriteString("o.type_id = " + k.arg(r.TypeID))
	if r.Object != nil {
		f.WriteString(" AND " + k.node(r.Object, objectEntity))
	}
	if r.Relationship != nil {
		f.WriteString(" AND " + k.node(r.Relationship, relationshipEntity))
	}
	if k.few {
		return k.correlated("FROM relationships r JOIN objects o ON o.pk = r.object_pk WHERE r.person_pk = p.pk AND "+f.String(), r.Count)
	}
	return k.set("r.person_pk", "FROM objects o JOIN relationships r ON r.object_pk = o.pk WHERE "+f.String(), r.Count)
}

// subquery starts the conditions of a subquery's WHERE, where NULL filters as false
// whatever surrounds the subquery; the returned func ends them.
func (k *compiler) subquery() func() {
	outer := k.negated
	k.negated = 0
	return func() { k.negated = outer }
}

// correlated counts from one person's rows (from is "FROM … WHERE …").
func (k *compiler) correlated(from string, n herald.CountCond) string {
	if n == herald.AtLeastOnce {
		return "EXISTS (SELECT 1 " + from + ")"
	}
	return "((SELECT COUNT(*) " + from + ") " + sqlOp(n.Operator) + " " + k.arg(n.Value) + ")"
}

// set matches people against the set of people whose count holds; a count that holds for
// zero (at most N) is the complement of the set whose count fails.
func (k *compiler) set(col, from string, n herald.CountCond) string {
	var q string
	switch {
	case n == herald.AtLeastOnce:
		q = "SELECT DISTINCT " + col + " " + from
	case !n.Match(0):
		q = "SELECT " + col + " " + from + " GROUP BY " + col + " HAVING COUNT(*) " + sqlOp(n.Operator) + " " + k.arg(n.Value)
	}
	if q != "" {
		if k.direct {
			k.directSQL = q
		}
		return "p.pk IN (" + q + ")"
	}
	group := " GROUP BY " + col + " HAVING "
	return "(NOT p.pk IN (SELECT " + col + " " + from + group + "NOT (COUNT(*) " + sqlOp(n.Operator) + " " + k.arg(n.Value) + ")))"
}

func sqlOp(op string) string {
	switch op {
	case "eq":
		return "="
	case "ne":
		return "<>"
	case "gt":
		return ">"
	case "gte":
		return ">="
	case "lt":
		return "<"
	case "lte":
		return "<="
	}
	panic("segment: unknown operator " + op)
}

// number renders a numeric operand: the double the evaluator compares with.
func (k *compiler) number(f float64, _ string) string {
	if k.pg {
		return "CAST(" + k.arg(f) + " AS double precision)"
	}
	return k.arg(f)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func runes(s string) int { return utf8.RuneCountInString(s) }
