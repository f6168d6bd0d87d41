package herald

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Cond is a segment's condition tree: exactly one of And, Or, Not or a leaf (Attr, Segment,
// Event, Related). Customer.io's object_attribute and relationship_attribute leaves parse into
// Related, so that every engine sees one shape.
type Cond struct {
	And     []*Cond
	Or      []*Cond
	Not     *Cond
	Attr    *AttrCond    // a person attribute (or, inside Event.Data and Related, that entity's)
	Segment int64        // membership of another segment
	Event   *EventCond   // the person performed an event
	Related *RelatedCond // the person is related to objects of a type
}

// AttrCond compares one attribute. Value is the operand as sent; Num and Str are its number
// and string forms, Time the instant of a timestamp rule (before/after) and Days the N of a
// relative one.
type AttrCond struct {
	Field    string
	Operator string
	Value    json.RawMessage
	List     []json.RawMessage // the operand of "in"
	Time     int64             // before / after: unix seconds
	Days     float64           // the relative timestamp rules
}

// CountCond compares how many events or relationships matched.
type CountCond struct {
	Operator string // eq, ne, gt, gte, lt, lte
	Value    int64
}

// EventCond is "performed event Name", with conditions on its data, a count (default at
// least once) and a window: WithinDays of now, or From..To (unix seconds, inclusive).
type EventCond struct {
	Name       string
	Data       *Cond
	Count      CountCond
	WithinDays float64
	From, To   int64
}

// RelatedCond is "related to objects of TypeID where Object and Relationship hold on the same
// relationship", counted (default at least one).
type RelatedCond struct {
	TypeID       int
	Object       *Cond
	Relationship *Cond
	Count        CountCond
}

// Timestamp rules: operators that read the attribute as unix seconds.
var timestampOperators = map[string]bool{
	"before": true, "after": true,
	"more_than_days_ago": true, "less_than_days_ago": true,
	"more_than_days_from_now": true, "less_than_days_from_now": true,
}

var countOperators = map[string]bool{"eq": true, "ne": true, "gt": true, "gte": true, "lt": true, "lte": true}

// AtLeastOnce is the default count: one or more.
var AtLeastOnce = CountCond{Operator: "gte", Value: 1}

// ParseConditions parses a segment condition tree. Errors are *Error with Field set to the
// JSON path of the bad node (e.g. "conditions.and[1].related.count.operator").
func ParseConditions(raw json.RawMessage, path string) (*Cond, error) {
	p := condParser{}
	return p.node(raw, path, 0, "person")
}

type condParser struct{ nodes int }

// scope is what a subtree's attribute leaves look at: "person" allows every leaf; "object",
// "relationship" and "event" only attribute leaves (and and/or/not).
func (p *condParser) node(raw json.RawMessage, path string, depth int, scope string) (*Cond, error) {
	p.nodes++
	if depth > MaxFilterDepth {
		return nil, Errorf(Invalid, path, "the condition tree is nested deeper than %d levels", MaxFilterDepth)
	}
	if p.nodes > MaxFilterNodes {
		return nil, Errorf(TooMany, path, "the condition tree has more than %d nodes", MaxFilterNodes)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, Errorf(Invalid, path, "must be an object with one of and, or, not or a condition")
	}
	if len(m) != 1 {
		return nil, Errorf(Invalid, path, "must have exactly one key (and, or, not or a condition), got %v", sortedKeys(m))
	}
	for key, v := range m {
		at := path + "." + key
		switch key {
		case "and", "or":
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				return nil, Errorf(Invalid, at, "must be an array of conditions")
			}
			if len(items) == 0 {
				return nil, Errorf(Invalid, at, "must not be empty")
			}
			c := &Cond{}
			for i, it := range items {
				child, err := p.node(it, fmt.Sprintf("%s[%d]", at, i), depth+1, scope)
				if err != nil {
					return nil, err
				}
				if key == "and" {
					c.And = append(c.And, child)
				} else {
					c.Or = append(c.Or, child)
				}
			}
			return c, nil
		case "not":
			child, err := p.node(v, at, depth+1, scope)
			if err != nil {
				return nil, err
			}
			return &Cond{Not: child}, nil
		case "attribute":
			a, err := parseAttrCond(v, at)
			if err != nil {
				return nil, err
			}
			return &Cond{Attr: a}, nil
		}
		if scope != "person" {
			return nil, Errorf(Invalid, path, "unknown condition %q in %s conditions; expected and, or, not or attribute", key, scope)
		}
		switch key {
		case "segment":
			var in struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(v, &in) != nil {
				return nil, Errorf(Invalid, at, "must be an object with id")
			}
			n, err := Int64Value(in.ID, at+".id")
			if err != nil || n <= 0 {
				return nil, Errorf(Invalid, at+".id", "must be a segment id")
			}
			return &Cond{Segment: n}, nil
		case "event":
			e, err := p.event(v, at, depth)
			if err != nil {
				return nil, err
			}
			return &Cond{Event: e}, nil
		case "related":
			r, err := p.related(v, at, depth)
			if err != nil {
				return nil, err
			}
			return &Cond{Related: r}, nil
		case "object_attribute", "relationship_attribute":
			var in struct {
				TypeID json.RawMessage `json:"type_id"`
			}
			if json.Unmarshal(v, &in) != nil {
				return nil, Errorf(Invalid, at, "must be an object with type_id, field, operator and value")
			}
			typeID, err := parseTypeID(in.TypeID, at+".type_id")
			if err != nil {
				return nil, err
			}
			a, err := parseAttrCond(v, at)
			if err != nil {
				return nil, err
			}
			r := &RelatedCond{TypeID: typeID, Count: AtLeastOnce}
			if key == "object_attribute" {
				r.Object = &Cond{Attr: a}
			} else {
				r.Relationship = &Cond{Attr: a}
			}
			return &Cond{Related: r}, nil
		default:
			return nil, Errorf(Invalid, path, "unknown condition %q; expected and, or, not, attribute, segment, event, related, object_attribute or relationship_attribute", key)
		}
	}
	panic("unreachable")
}

func parseTypeID(raw json.RawMessage, path string) (int, error) {
	n, err := Int64Value(raw, path)
	if err != nil || n <= 0 {
		return 0, Errorf(Invalid, path, "must be an object type id such as 1 or \"1\"")
	}
	return int(n), nil
}

func (p *condParser) event(raw json.RawMessage, path string, depth int) (*EventCond, error) {
	var in struct {
		Name       *string         `json:"name"`
		Data       json.RawMessage `json:"data"`
		Count      json.RawMessage `json:"count"`
		WithinDays json.RawMessage `json:"within_days"`
		Between    json.RawMessage `json:"between"`
	}
	if err := strictDecode(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be an object with name and optional data, count, within_days, between: %v", err)
	}
	if in.Name == nil || *in.Name == "" {
		return nil, Errorf(Required, path+".name", "is required")
	}
	e := &EventCond{Name: *in.Name, Count: AtLeastOnce}
	var err error
	if e.Data, err = p.optional(in.Data, path+".data", depth, "event"); err != nil {
		return nil, err
	}
	if e.Count, err = parseCount(in.Count, path+".count"); err != nil {
		return nil, err
	}
	if present(in.WithinDays) {
		d, ok := ParseNumber(ValueString(in.WithinDays))
		if !ok || d <= 0 {
			return nil, Errorf(Invalid, path+".within_days", "must be a positive number of days")
		}
		e.WithinDays = d
	}
	if present(in.Between) {
		if e.WithinDays > 0 {
			return nil, Errorf(Invalid, path+".between", "cannot be combined with within_days")
		}
		var b []json.RawMessage
		if json.Unmarshal(in.Between, &b) != nil || len(b) != 2 {
			return nil, Errorf(Invalid, path+".between", "must be an array of two dates [from, to]")
		}
		if e.From, err = ParseDate(b[0], path+".between[0]"); err != nil {
			return nil, err
		}
		if e.To, err = ParseDate(b[1], path+".between[1]"); err != nil {
			return nil, err
		}
		if e.From > e.To {
			return nil, Errorf(Invalid, path+".between", "from is after to")
		}
	}
	return e, nil
}

func (p *condParser) related(raw json.RawMessage, path string, depth int) (*RelatedCond, error) {
	var in struct {
		TypeID       json.RawMessage `json:"type_id"`
		Object       json.RawMessage `json:"object"`
		Relationship json.RawMessage `json:"relationship"`
		Count        json.RawMessage `json:"count"`
	}
	if err := strictDecode(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be an object with type_id and optional object, relationship, count: %v", err)
	}
	r := &RelatedCond{}
	var err error
	if r.TypeID, err = parseTypeID(in.TypeID, path+".type_id"); err != nil {
		return nil, err
	}
	if r.Object, err = p.optional(in.Object, path+".object", depth, "object"); err != nil {
		return nil, err
	}
	if r.Relationship, err = p.optional(in.Relationship, path+".relationship", depth, "relationship"); err != nil {
		return nil, err
	}
	if r.Count, err = parseCount(in.Count, path+".count"); err != nil {
		return nil, err
	}
	return r, nil
}

func (p *condParser) optional(raw json.RawMessage, path string, depth int, scope string) (*Cond, error) {
	if !present(raw) {
		return nil, nil
	}
	return p.node(raw, path, depth+1, scope)
}

func parseCount(raw json.RawMessage, path string) (CountCond, error) {
	if !present(raw) {
		return AtLeastOnce, nil
	}
	var in struct {
		Operator string          `json:"operator"`
		Value    json.RawMessage `json:"value"`
	}
	if err := strictDecode(raw, &in); err != nil {
		return CountCond{}, Errorf(Invalid, path, "must be an object with operator and value")
	}
	if !countOperators[in.Operator] {
		return CountCond{}, Errorf(Invalid, path+".operator", "unknown count operator %q; use one of eq, ne, gt, gte, lt, lte", in.Operator)
	}
	n, err := Int64Value(in.Value, path+".value")
	if err != nil || n < 0 || !present(in.Value) {
		return CountCond{}, Errorf(Invalid, path+".value", "must be a whole number ≥ 0")
	}
	return CountCond{Operator: in.Operator, Value: n}, nil
}

func parseAttrCond(raw json.RawMessage, path string) (*AttrCond, error) {
	var in struct {
		Field    string          `json:"field"`
		Operator string          `json:"operator"`
		Value    json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be an object with field, operator and value")
	}
	a := &AttrCond{Field: in.Field, Operator: in.Operator, Value: bytes.TrimSpace(in.Value)}
	switch {
	case a.Field == "":
		return nil, Errorf(Required, path+".field", "is required")
	case len(a.Field) > MaxAttrNameBytes:
		return nil, Errorf(TooLong, path+".field", "is longer than %d bytes", MaxAttrNameBytes)
	case strings.ContainsAny(a.Field, "\"\\") || strings.ContainsFunc(a.Field, unicode.IsControl):
		return nil, Errorf(Invalid, path+".field", "must not contain quotes, backslashes or control characters")
	}
	if bytes.Contains(a.Value, []byte(`\u0000`)) {
		return nil, Errorf(Invalid, path+".value", "must not contain NUL characters")
	}
	if !Operators[a.Operator] && !timestampOperators[a.Operator] {
		return nil, Errorf(Invalid, path+".operator", "unknown operator %q; use one of eq, ne, exists, not_exists, gt, gte, lt, lte, contains, not_contains, starts_with, ends_with, in, before, after, more_than_days_ago, less_than_days_ago, more_than_days_from_now, less_than_days_from_now", a.Operator)
	}
	if a.Operator == "exists" || a.Operator == "not_exists" {
		return a, nil
	}
	if !present(a.Value) {
		return nil, Errorf(Required, path+".value", "is required with operator %s", a.Operator)
	}
	switch a.Operator {
	case "in":
		if json.Unmarshal(a.Value, &a.List) != nil || len(a.List) == 0 {
			return nil, Errorf(Invalid, path+".value", "must be a non-empty array with operator in")
		}
		for i, x := range a.List {
			if len(x) > 0 && (x[0] == '{' || x[0] == '[') {
				return nil, Errorf(Invalid, fmt.Sprintf("%s.value[%d]", path, i), "must be a string, number or boolean")
			}
		}
	case "before", "after":
		t, err := ParseDate(a.Value, path+".value")
		if err != nil {
			return nil, err
		}
		a.Time = t
	case "more_than_days_ago", "less_than_days_ago", "more_than_days_from_now", "less_than_days_from_now":
		d, ok := ParseNumber(ValueString(a.Value))
		if !ok || d < 0 {
			return nil, Errorf(Invalid, path+".value", "must be a number of days ≥ 0")
		}
		a.Days = d
	default:
		if a.Value[0] == '{' || a.Value[0] == '[' {
			return nil, Errorf(Invalid, path+".value", "must be a string, number or boolean")
		}
	}
	return a, nil
}

// ParseDate reads a date operand: unix seconds (a number or numeric string) or an RFC 3339 /
// ISO 8601 date ("2026-01-31" or "2026-01-31T09:00:00Z").
func ParseDate(raw json.RawMessage, path string) (int64, error) {
	s := strings.TrimSpace(ValueString(raw))
	if n, ok := ParseNumber(s); ok {
		return int64(n), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, Errorf(Invalid, path, "must be a date: unix seconds or ISO 8601 such as 2026-01-31 or 2026-01-31T09:00:00Z")
}

func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && string(t) != "null"
}

func strictDecode(raw json.RawMessage, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// SegmentRefs returns the ids of the segments c's segment leaves name.
func (c *Cond) SegmentRefs() []int64 {
	var out []int64
	c.walk(func(n *Cond) {
		if n.Segment != 0 {
			out = append(out, n.Segment)
		}
	})
	return out
}

// walk calls fn on c and every person-level node beneath it.
func (c *Cond) walk(fn func(*Cond)) {
	if c == nil {
		return
	}
	fn(c)
	for _, x := range c.And {
		x.walk(fn)
	}
	for _, x := range c.Or {
		x.walk(fn)
	}
	c.Not.walk(fn)
}
