package herald

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Filter is a condition tree in Customer.io's JSON shape: exactly one of and (array), or
// (array), not (one node), or a leaf condition.
type Filter struct {
	And  []*Filter
	Or   []*Filter
	Not  *Filter
	Leaf *Condition
}

// Condition is a leaf of a Filter. Kind is the leaf's key: "attribute" (a person attribute),
// "object_attribute", "relationship_attribute" (both with TypeID) or "segment".
type Condition struct {
	Kind      string
	TypeID    int
	Field     string
	Operator  string
	Value     json.RawMessage
	SegmentID int
}

// Operators accepted in leaves.
var Operators = map[string]bool{
	"eq": true, "ne": true, "exists": true, "not_exists": true, "gt": true, "gte": true, "lt": true, "lte": true,
	"contains": true, "not_contains": true, "starts_with": true, "ends_with": true, "in": true,
}

// Filter limits keep a hostile tree from costing much.
const (
	MaxFilterDepth = 16
	MaxFilterNodes = 500
)

// ParseFilter parses a condition tree. leaves lists the leaf kinds allowed here. Errors carry
// the JSON path of the bad node (path is the tree's own name, e.g. "filter").
func ParseFilter(raw json.RawMessage, path string, leaves ...string) (*Filter, error) {
	n := 0
	return parseFilter(raw, path, 0, &n, leaves)
}

func parseFilter(raw json.RawMessage, path string, depth int, nodes *int, leaves []string) (*Filter, error) {
	*nodes++
	if depth > MaxFilterDepth {
		return nil, Errorf(Invalid, path, "the condition tree is nested deeper than %d levels", MaxFilterDepth)
	}
	if *nodes > MaxFilterNodes {
		return nil, Errorf(TooMany, path, "the condition tree has more than %d nodes", MaxFilterNodes)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, Errorf(Invalid, path, "must be an object with one of and, or, not or a condition")
	}
	if len(m) != 1 {
		keys := sortedKeys(m)
		return nil, Errorf(Invalid, path, "must have exactly one key (and, or, not or a condition), got %v", keys)
	}
	for key, v := range m {
		p := path + "." + key
		switch key {
		case "and", "or":
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				return nil, Errorf(Invalid, p, "must be an array of conditions")
			}
			if len(items) == 0 {
				return nil, Errorf(Invalid, p, "must not be empty")
			}
			f := &Filter{}
			for i, it := range items {
				child, err := parseFilter(it, fmt.Sprintf("%s[%d]", p, i), depth+1, nodes, leaves)
				if err != nil {
					return nil, err
				}
				if key == "and" {
					f.And = append(f.And, child)
				} else {
					f.Or = append(f.Or, child)
				}
			}
			return f, nil
		case "not":
			child, err := parseFilter(v, p, depth+1, nodes, leaves)
			if err != nil {
				return nil, err
			}
			return &Filter{Not: child}, nil
		default:
			allowed := false
			for _, l := range leaves {
				allowed = allowed || l == key
			}
			if !allowed {
				return nil, Errorf(Invalid, path, "unknown condition %q here; expected and, or, not or one of %v", key, leaves)
			}
			c, err := parseCondition(key, v, p)
			if err != nil {
				return nil, err
			}
			return &Filter{Leaf: c}, nil
		}
	}
	panic("unreachable")
}

func parseCondition(kind string, raw json.RawMessage, path string) (*Condition, error) {
	var in struct {
		TypeID   json.RawMessage `json:"type_id"`
		Field    string          `json:"field"`
		Operator string          `json:"operator"`
		Value    json.RawMessage `json:"value"`
		ID       json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be an object with field, operator and value")
	}
	c := &Condition{Kind: kind, Field: in.Field, Operator: in.Operator, Value: in.Value}
	if kind == "segment" {
		n, err := Int64Value(in.ID, path+".id")
		if err != nil || n <= 0 {
			return nil, Errorf(Invalid, path+".id", "must be a segment id")
		}
		c.SegmentID = int(n)
		return c, nil
	}
	if kind == "object_attribute" || kind == "relationship_attribute" {
		n, err := Int64Value(in.TypeID, path+".type_id")
		if err != nil || n <= 0 {
			return nil, Errorf(Invalid, path+".type_id", "must be an object type id such as 1 or \"1\"")
		}
		c.TypeID = int(n)
	}
	if c.Field == "" {
		return nil, Errorf(Required, path+".field", "is required")
	}
	if !Operators[c.Operator] {
		return nil, Errorf(Invalid, path+".operator", "unknown operator %q; use one of eq, ne, exists, not_exists, gt, gte, lt, lte, contains, not_contains, starts_with, ends_with, in", c.Operator)
	}
	needsValue := c.Operator != "exists" && c.Operator != "not_exists"
	if needsValue && (len(bytes.TrimSpace(c.Value)) == 0 || string(bytes.TrimSpace(c.Value)) == "null") {
		return nil, Errorf(Required, path+".value", "is required with operator %s", c.Operator)
	}
	if c.Operator == "in" {
		var list []json.RawMessage
		if json.Unmarshal(c.Value, &list) != nil {
			return nil, Errorf(Invalid, path+".value", "must be an array with operator in")
		}
	}
	return c, nil
}

// Match evaluates f; leaf decides each condition.
func (f *Filter) Match(leaf func(*Condition) bool) bool {
	switch {
	case f.Leaf != nil:
		return leaf(f.Leaf)
	case f.Not != nil:
		return !f.Not.Match(leaf)
	case f.And != nil:
		for _, c := range f.And {
			if !c.Match(leaf) {
				return false
			}
		}
		return true
	default:
		for _, c := range f.Or {
			if c.Match(leaf) {
				return true
			}
		}
		return false
	}
}

// Compare applies a condition's operator to an attribute value (nil when absent). Numbers
// compare as numbers even when either side is a numeric string, as Customer.io stores strings.
func (c *Condition) Compare(v json.RawMessage, present bool) bool {
	switch c.Operator {
	case "exists":
		return present
	case "not_exists":
		return !present
	}
	if !present {
		return c.Operator == "ne" || c.Operator == "not_contains"
	}
	got := ValueString(v)
	switch c.Operator {
	case "eq":
		return equalValues(got, ValueString(c.Value))
	case "ne":
		return !equalValues(got, ValueString(c.Value))
	case "in":
		var list []json.RawMessage
		json.Unmarshal(c.Value, &list)
		for _, x := range list {
			if equalValues(got, ValueString(x)) {
				return true
			}
		}
		return false
	case "contains":
		return strings.Contains(strings.ToLower(got), strings.ToLower(ValueString(c.Value)))
	case "not_contains":
		return !strings.Contains(strings.ToLower(got), strings.ToLower(ValueString(c.Value)))
	case "starts_with":
		return strings.HasPrefix(strings.ToLower(got), strings.ToLower(ValueString(c.Value)))
	case "ends_with":
		return strings.HasSuffix(strings.ToLower(got), strings.ToLower(ValueString(c.Value)))
	}
	a, aok := number(got)
	b, bok := number(ValueString(c.Value))
	if !aok || !bok {
		want := ValueString(c.Value)
		switch c.Operator {
		case "gt":
			return got > want
		case "gte":
			return got >= want
		case "lt":
			return got < want
		case "lte":
			return got <= want
		}
		return false
	}
	switch c.Operator {
	case "gt":
		return a > b
	case "gte":
		return a >= b
	case "lt":
		return a < b
	case "lte":
		return a <= b
	}
	return false
}

func equalValues(a, b string) bool {
	if a == b {
		return true
	}
	x, xok := number(a)
	y, yok := number(b)
	return xok && yok && x == y
}

func number(s string) (float64, bool) { return ParseNumber(s) }
