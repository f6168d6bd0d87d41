package segment

import (
	"strings"

	"github.com/heraldhq/herald"
)

// The value accessors write, for one attribute of an entity, SQL whose results follow
// herald.ValueString (str), herald.ParseNumber (num) and presence. Each call writes fresh
// text with its own arguments.

func (k *compiler) path(field string) string {
	if k.pg {
		return k.arg(field) + "::text"
	}
	return k.arg(`$."` + field + `"`)
}

func (k *compiler) str(e entity, field string) string {
	if field == "object_id" && e.objectID != "" {
		return e.objectID
	}
	if k.pg {
		return "(" + e.json + " ->> " + k.path(field) + ")"
	}
	return "(CASE json_type(" + e.json + ", " + k.path(field) + ") WHEN 'text' THEN json_extract(" + e.json + ", " + k.path(field) +
		") WHEN 'null' THEN NULL ELSE " + e.json + " -> " + k.path(field) + " END)"
}

func (k *compiler) num(e entity, field string) string {
	if field == "object_id" && e.objectID != "" {
		if k.pg {
			return "herald_num(" + e.objectID + ")"
		}
		return "herald_num(json_quote(" + e.objectID + "))"
	}
	if k.pg {
		// A JSON number of at most 200 characters is a double the grammar reads alike (and
		// casts without overflow); anything else goes through herald_num's grammar.
		return "(CASE WHEN jsonb_typeof(" + e.json + " -> " + k.path(field) + ") = 'number' AND length(" + e.json + " ->> " + k.path(field) +
			") <= 200 THEN (" + e.json + " ->> " + k.path(field) + ")::double precision ELSE herald_num(" + e.json + " ->> " + k.path(field) + ") END)"
	}
	// A JSON integer's double is what the grammar reads it as; anything else goes through
	// herald_num.
	return "(CASE json_type(" + e.json + ", " + k.path(field) + ") WHEN 'integer' THEN CAST(json_extract(" + e.json + ", " + k.path(field) +
		") AS REAL) ELSE herald_num(" + e.json + " -> " + k.path(field) + ") END)"
}

func (k *compiler) present(e entity, field string) string {
	if field == "object_id" && e.objectID != "" {
		return "TRUE"
	}
	if k.pg {
		return "COALESCE(jsonb_typeof(" + e.json + " -> " + k.path(field) + ") <> 'null', FALSE)"
	}
	return "(COALESCE(json_type(" + e.json + ", " + k.path(field) + "), 'null') <> 'null')"
}

func (k *compiler) lower(expr string) string {
	if k.pg {
		return "lower(" + expr + ")"
	}
	return "herald_lower(" + expr + ")"
}

func (k *compiler) text(s string) string {
	if k.pg {
		return k.arg(s) + "::text"
	}
	return k.arg(s)
}

// attr compiles an attribute leaf. Its result may be NULL only where NULL and false filter
// alike (no NOT above it): there, a bare comparison lets the planner use an index.
func (k *compiler) attr(a *herald.AttrCond, e entity) string {
	switch a.Operator {
	case "exists":
		return k.present(e, a.Field)
	case "not_exists":
		return "(NOT " + k.present(e, a.Field) + ")"
	case "eq":
		return k.eq(e, a.Field, a.Value)
	case "ne":
		k.negated++
		defer func() { k.negated-- }()
		return "(NOT " + k.eq(e, a.Field, a.Value) + ")"
	case "in":
		parts := make([]string, len(a.List))
		for i, x := range a.List {
			parts[i] = k.eq(e, a.Field, x)
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	case "contains", "not_contains", "starts_with", "ends_with":
		if a.Operator == "not_contains" {
			k.negated++
			defer func() { k.negated-- }()
		}
		want := strings.ToLower(herald.ValueString(a.Value))
		var m string
		switch {
		case want == "":
			m = k.present(e, a.Field)
		case a.Operator == "starts_with" && k.pg:
			m = k.nonNull("starts_with(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + ")")
		case a.Operator == "starts_with":
			m = k.nonNull("instr(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + ") = 1")
		case a.Operator == "ends_with" && k.pg:
			m = k.nonNull("right(" + k.lower(k.str(e, a.Field)) + ", " + k.arg(runes(want)) + ") = " + k.text(want))
		case a.Operator == "ends_with":
			m = k.nonNull("substr(" + k.lower(k.str(e, a.Field)) + ", " + k.arg(-runes(want)) + ") = " + k.text(want))
		case k.pg:
			m = k.nonNull("strpos(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + ") > 0")
		default:
			m = k.nonNull("instr(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + ") > 0")
		}
		if a.Operator == "not_contains" {
			return "(NOT " + m + ")"
		}
		return m
	case "gt", "gte", "lt", "lte":
		want := herald.ValueString(a.Value)
		op := sqlOp(a.Operator)
		if f, ok := herald.ParseNumber(want); ok {
			return k.nonNull("CASE WHEN " + k.num(e, a.Field) + " IS NOT NULL THEN " + k.num(e, a.Field) + " " + op + " " + k.number(f, want) +
				" ELSE " + k.strCompare(e, a.Field, op, want) + " END")
		}
		return k.nonNull(k.strCompare(e, a.Field, op, want))
	}
	// Timestamp rules: the attribute must be a number within the rule's bounds.
	bounds := a.TimeBounds(k.now)
	parts := make([]string, len(bounds))
	for i, b := range bounds {
		parts[i] = k.num(e, a.Field) + " " + sqlOp(b.Op) + " " + k.number(b.Value, formatFloat(b.Value))
	}
	return k.nonNull(strings.Join(parts, " AND "))
}

// nonNull makes a comparison that is NULL for an absent value exact under NOT.
func (k *compiler) nonNull(expr string) string {
	if k.negated == 0 {
		return "(" + expr + ")"
	}
	return "COALESCE(" + expr + ", FALSE)"
}

// keyExpr is an attribute's text as an index can hold it: the key is written into the
// text (it is an attribute name, checked to hold no quote or backslash; values are always
// parameters), so that the expression indexes of EnsureAttributeIndex match.
func (k *compiler) keyExpr(e entity, field string) string {
	if k.pg {
		return "(" + e.json + " ->> " + sqlString(field) + ")"
	}
	return "json_extract(" + e.json + ", " + sqlString(`$."`+field+`"`) + ")"
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// strCompare orders strings byte by byte, as Go does (PostgreSQL's collation would not).
func (k *compiler) strCompare(e entity, field, op, want string) string {
	if k.pg {
		return "(" + k.str(e, field) + " COLLATE \"C\" " + op + " " + k.text(want) + ")"
	}
	return "(" + k.str(e, field) + " " + op + " " + k.text(want) + ")"
}

// eq is herald's equality: the same string, or the same number when both are numbers. A
// plain text operand compares the attribute's text alone, in the form an expression index
// holds.
func (k *compiler) eq(e entity, field string, operand []byte) string {
	want := herald.ValueString(operand)
	if f, ok := herald.ParseNumber(want); ok {
		return k.nonNull(k.str(e, field) + " = " + k.text(want) + " OR " + k.num(e, field) + " = " + k.number(f, want))
	}
	if field == "object_id" && e.objectID != "" {
		return "(" + e.objectID + " = " + k.text(want) + ")"
	}
	if k.pg || (want != "true" && want != "false") {
		// PostgreSQL's ->> is the attribute's text; SQLite's json_extract returns this text
		// only for a JSON string (true and false come back as 1 and 0).
		return k.nonNull(k.keyExpr(e, field) + " = " + k.text(want))
	}
	return k.nonNull(k.str(e, field) + " = " + k.text(want))
}
