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
		return "(CASE WHEN jsonb_typeof(" + e.json + " -> " + k.path(field) + ") = 'number' THEN (" + e.json + " ->> " + k.path(field) +
			")::numeric ELSE herald_num(" + e.json + " ->> " + k.path(field) + ") END)"
	}
	return "(CASE json_type(" + e.json + ", " + k.path(field) + ") WHEN 'integer' THEN json_extract(" + e.json + ", " + k.path(field) +
		") ELSE herald_num(" + e.json + " -> " + k.path(field) + ") END)"
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

// attr compiles an attribute leaf; the result is never NULL.
func (k *compiler) attr(a *herald.AttrCond, e entity) string {
	switch a.Operator {
	case "exists":
		return k.present(e, a.Field)
	case "not_exists":
		return "(NOT " + k.present(e, a.Field) + ")"
	case "eq":
		return k.eq(e, a.Field, a.Value)
	case "ne":
		return "(NOT " + k.eq(e, a.Field, a.Value) + ")"
	case "in":
		parts := make([]string, len(a.List))
		for i, x := range a.List {
			parts[i] = k.eq(e, a.Field, x)
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	case "contains", "not_contains", "starts_with", "ends_with":
		want := strings.ToLower(herald.ValueString(a.Value))
		var m string
		switch {
		case want == "":
			m = k.present(e, a.Field)
		case a.Operator == "starts_with" && k.pg:
			m = "COALESCE(starts_with(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + "), FALSE)"
		case a.Operator == "starts_with":
			m = "COALESCE(instr(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + ") = 1, FALSE)"
		case a.Operator == "ends_with" && k.pg:
			m = "COALESCE(right(" + k.lower(k.str(e, a.Field)) + ", " + k.arg(runes(want)) + ") = " + k.text(want) + ", FALSE)"
		case a.Operator == "ends_with":
			m = "COALESCE(substr(" + k.lower(k.str(e, a.Field)) + ", " + k.arg(-runes(want)) + ") = " + k.text(want) + ", FALSE)"
		case k.pg:
			m = "COALESCE(strpos(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + ") > 0, FALSE)"
		default:
			m = "COALESCE(instr(" + k.lower(k.str(e, a.Field)) + ", " + k.text(want) + ") > 0, FALSE)"
		}
		if a.Operator == "not_contains" {
			return "(NOT " + m + ")"
		}
		return m
	case "gt", "gte", "lt", "lte":
		want := herald.ValueString(a.Value)
		op := sqlOp(a.Operator)
		if f, ok := herald.ParseNumber(want); ok {
			return "COALESCE(CASE WHEN " + k.num(e, a.Field) + " IS NOT NULL THEN " + k.num(e, a.Field) + " " + op + " " + k.number(f, want) +
				" ELSE " + k.strCompare(e, a.Field, op, want) + " END, FALSE)"
		}
		return "COALESCE(" + k.strCompare(e, a.Field, op, want) + ", FALSE)"
	}
	// Timestamp rules: the attribute must be a number within the rule's bounds.
	bounds := a.TimeBounds(k.now)
	parts := make([]string, len(bounds))
	for i, b := range bounds {
		parts[i] = k.num(e, a.Field) + " " + sqlOp(b.Op) + " " + k.number(b.Value, formatFloat(b.Value))
	}
	return "COALESCE(" + strings.Join(parts, " AND ") + ", FALSE)"
}

// strCompare orders strings byte by byte, as Go does (PostgreSQL's collation would not).
func (k *compiler) strCompare(e entity, field, op, want string) string {
	if k.pg {
		return "(" + k.str(e, field) + " COLLATE \"C\" " + op + " " + k.text(want) + ")"
	}
	return "(" + k.str(e, field) + " " + op + " " + k.text(want) + ")"
}

// eq is herald's equality: the same string, or the same number when both are numbers.
func (k *compiler) eq(e entity, field string, operand []byte) string {
	want := herald.ValueString(operand)
	if f, ok := herald.ParseNumber(want); ok {
		return "COALESCE((" + k.str(e, field) + " = " + k.text(want) + " OR " + k.num(e, field) + " = " + k.number(f, want) + "), FALSE)"
	}
	if !k.pg && want != "true" && want != "false" && !(field == "object_id" && e.objectID != "") {
		// A JSON string is the only value json_extract returns as this text.
		return "COALESCE(json_extract(" + e.json + ", " + k.path(field) + ") = " + k.arg(want) + ", FALSE)"
	}
	return "COALESCE(" + k.str(e, field) + " = " + k.text(want) + ", FALSE)"
}
