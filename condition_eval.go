package herald

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Subject is what a condition tree is evaluated against in memory: one person and the parts of
// the graph around them. The SQL compiler (package segment) must agree with Cond.Match on
// every tree; the differential tests hold them to it.
type Subject interface {
	// Attributes are the person's attributes.
	Attributes() Attributes
	// InSegment reports membership of segment id.
	InSegment(id int64) bool
	// Events are the person's events called name.
	Events(name string) []EventFacts
	// Related are the person's relationships to objects of typeID.
	Related(typeID int) []RelatedFacts
}

// EventFacts is one event as conditions see it.
type EventFacts struct {
	Timestamp int64
	Data      Attributes
}

// RelatedFacts is one relationship as conditions see it. Object holds the object's attributes
// plus "object_id".
type RelatedFacts struct {
	Object       Attributes
	Relationship Attributes
}

// SecondsPerDay converts the day counts of timestamp rules.
const SecondsPerDay = 86400

// Match evaluates c for s at time now (unix seconds).
func (c *Cond) Match(s Subject, now int64) bool {
	switch {
	case c.And != nil:
		for _, x := range c.And {
			if !x.Match(s, now) {
				return false
			}
		}
		return true
	case c.Or != nil:
		for _, x := range c.Or {
			if x.Match(s, now) {
				return true
			}
		}
		return false
	case c.Not != nil:
		return !c.Not.Match(s, now)
	case c.Attr != nil:
		return c.Attr.MatchIn(s.Attributes(), now)
	case c.Segment != 0:
		return s.InSegment(c.Segment)
	case c.Event != nil:
		return c.Event.Count.Match(c.Event.count(s, now))
	case c.Related != nil:
		n := int64(0)
		for _, r := range s.Related(c.Related.TypeID) {
			if c.Related.Object.matchAttrs(r.Object, now) && c.Related.Relationship.matchAttrs(r.Relationship, now) {
				n++
			}
		}
		return c.Related.Count.Match(n)
	}
	return false
}

func (e *EventCond) count(s Subject, now int64) int64 {
	n := int64(0)
	since := float64(now) - e.WithinDays*SecondsPerDay
	for _, ev := range s.Events(e.Name) {
		if e.WithinDays > 0 && float64(ev.Timestamp) < since {
			continue
		}
		if (e.From != 0 || e.To != 0) && (ev.Timestamp < e.From || ev.Timestamp > e.To) {
			continue
		}
		if e.Data.matchAttrs(ev.Data, now) {
			n++
		}
	}
	return n
}

// MatchAttributes evaluates an attribute-only tree (object, relationship, event data or
// journey conditions) against a; a nil tree holds.
func (c *Cond) MatchAttributes(a Attributes, now int64) bool { return c.matchAttrs(a, now) }

// matchAttrs evaluates an attribute-only tree (object, relationship or event data); a nil
// tree holds.
func (c *Cond) matchAttrs(a Attributes, now int64) bool {
	if c == nil {
		return true
	}
	switch {
	case c.And != nil:
		for _, x := range c.And {
			if !x.matchAttrs(a, now) {
				return false
			}
		}
		return true
	case c.Or != nil:
		for _, x := range c.Or {
			if x.matchAttrs(a, now) {
				return true
			}
		}
		return false
	case c.Not != nil:
		return !c.Not.matchAttrs(a, now)
	case c.Attr != nil:
		return c.Attr.MatchIn(a, now)
	}
	return false
}

// Match compares a count.
func (c CountCond) Match(n int64) bool {
	switch c.Operator {
	case "eq":
		return n == c.Value
	case "ne":
		return n != c.Value
	case "gt":
		return n > c.Value
	case "gte":
		return n >= c.Value
	case "lt":
		return n < c.Value
	case "lte":
		return n <= c.Value
	}
	return false
}

// MatchIn evaluates the condition against the attribute Field of a.
func (a *AttrCond) MatchIn(attrs Attributes, now int64) bool {
	v, ok := attrs[a.Field]
	if ok && Removes(v) && string(v) == "null" {
		ok = false
	}
	return a.Compare(v, ok, now)
}

// Compare applies the operator to a value (present false when the attribute is absent).
// Numbers compare as numbers when both sides are numbers or numeric strings (Customer.io
// stores strings); otherwise values compare as strings, byte by byte. Text matching
// (contains, starts_with, ends_with) ignores case.
func (a *AttrCond) Compare(v json.RawMessage, present bool, now int64) bool {
	switch a.Operator {
	case "exists":
		return present
	case "not_exists":
		return !present
	case "ne":
		return !present || !equalOperand(ValueString(v), a.Value)
	case "not_contains":
		return !present || !strings.Contains(strings.ToLower(ValueString(v)), strings.ToLower(ValueString(a.Value)))
	}
	if !present {
		return false
	}
	got := ValueString(v)
	switch a.Operator {
	case "eq":
		return equalOperand(got, a.Value)
	case "in":
		for _, x := range a.List {
			if equalOperand(got, x) {
				return true
			}
		}
		return false
	case "contains":
		return strings.Contains(strings.ToLower(got), strings.ToLower(ValueString(a.Value)))
	case "starts_with":
		return strings.HasPrefix(strings.ToLower(got), strings.ToLower(ValueString(a.Value)))
	case "ends_with":
		return strings.HasSuffix(strings.ToLower(got), strings.ToLower(ValueString(a.Value)))
	case "gt", "gte", "lt", "lte":
		want := ValueString(a.Value)
		x, xok := ParseNumber(got)
		y, yok := ParseNumber(want)
		if xok && yok {
			return orderHolds(a.Operator, compareFloat(x, y))
		}
		return orderHolds(a.Operator, strings.Compare(got, want))
	}
	t, ok := ParseNumber(got)
	if !ok {
		return false
	}
	for _, b := range a.TimeBounds(now) {
		if !orderHolds(b.Op, compareFloat(t, b.Value)) {
			return false
		}
	}
	return true
}

// Bound is one side of a timestamp rule: the value must be Op (gt, gte, lt, lte) Value.
type Bound struct {
	Op    string
	Value float64
}

// TimeBounds returns the bounds a timestamp rule puts on a unix time at now; the SQL
// compiler emits the same comparisons.
func (a *AttrCond) TimeBounds(now int64) []Bound {
	d := a.Days * SecondsPerDay
	n := float64(now)
	switch a.Operator {
	case "before":
		return []Bound{{"lt", float64(a.Time)}}
	case "after":
		return []Bound{{"gt", float64(a.Time)}}
	case "more_than_days_ago":
		return []Bound{{"lt", n - d}}
	case "less_than_days_ago":
		return []Bound{{"gte", n - d}, {"lte", n}}
	case "more_than_days_from_now":
		return []Bound{{"gt", n + d}}
	case "less_than_days_from_now":
		return []Bound{{"gte", n}, {"lte", n + d}}
	}
	return nil
}

// IsRelative reports whether the rule's outcome moves with the clock.
func (a *AttrCond) IsRelative() bool {
	return strings.HasSuffix(a.Operator, "_ago") || strings.HasSuffix(a.Operator, "_from_now")
}

func equalOperand(got string, operand json.RawMessage) bool {
	want := ValueString(operand)
	if got == want {
		return true
	}
	x, xok := ParseNumber(got)
	y, yok := ParseNumber(want)
	return xok && yok && x == y
}

func compareFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func orderHolds(op string, cmp int) bool {
	switch op {
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	}
	return false
}

// ParseNumber reads s as a number when it is written as one: optional blanks and sign, at
// most 200 digits with an optional fraction of at most 200, and an optional exponent of at
// most two digits — so that every number is a finite float64 (and a PostgreSQL double
// precision). Both SQL engines apply the same grammar and compare the same doubles (see
// store's herald_num), so the engines and this evaluator agree on what is a number and on
// its value.
func ParseNumber(s string) (float64, bool) {
	s = strings.Trim(s, " \t\n\v\f\r")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits := digits(s, &i)
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		fracDigits = digits(s, &i)
	}
	if intDigits == 0 && fracDigits == 0 || intDigits > 200 || fracDigits > 200 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if n := digits(s, &i); n == 0 || n > 2 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func digits(s string, i *int) int {
	start := *i
	for *i < len(s) && s[*i] >= '0' && s[*i] <= '9' {
		*i++
	}
	return *i - start
}
