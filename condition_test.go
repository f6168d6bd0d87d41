package herald_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func TestParseConditionsRefusesMalformedTrees(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, tree, field, message string
	}{
		{"two keys", `{"and":[],"or":[]}`, "conditions", "exactly one key"},
		{"empty and", `{"and":[]}`, "conditions.and", "must not be empty"},
		{"unknown leaf", `{"color":{}}`, "conditions", "unknown condition"},
		{"unknown operator deep", `{"and":[{"attribute":{"field":"a","operator":"eq","value":1}},{"not":{"attribute":{"field":"b","operator":"near","value":1}}}]}`, "conditions.and[1].not.attribute.operator", "unknown operator"},
		{"missing value", `{"attribute":{"field":"plan","operator":"eq"}}`, "conditions.attribute.value", "is required"},
		{"related without type", `{"related":{"object":{"attribute":{"field":"a","operator":"exists"}}}}`, "conditions.related.type_id", "object type id"},
		{"bad count", `{"related":{"type_id":1,"count":{"operator":"about","value":2}}}`, "conditions.related.count.operator", "count operator"},
		{"negative count", `{"event":{"name":"x","count":{"operator":"gte","value":-1}}}`, "conditions.event.count.value", "≥ 0"},
		{"event without name", `{"event":{"within_days":3}}`, "conditions.event.name", "is required"},
		{"segment leaf inside object", `{"related":{"type_id":1,"object":{"segment":{"id":1}}}}`, "conditions.related.object", "object conditions"},
		{"unknown related key", `{"related":{"type_id":1,"objects":{}}}`, "conditions.related", "unknown field"},
		{"in needs array", `{"attribute":{"field":"a","operator":"in","value":"x"}}`, "conditions.attribute.value", "non-empty array"},
		{"bad date", `{"attribute":{"field":"a","operator":"before","value":"next tuesday"}}`, "conditions.attribute.value", "must be a date"},
		{"between and within", `{"event":{"name":"x","within_days":3,"between":[1,2]}}`, "conditions.event.between", "cannot be combined"},
		{"object operand", `{"attribute":{"field":"a","operator":"eq","value":{"x":1}}}`, "conditions.attribute.value", "string, number or boolean"},
		{"quote in field", `{"attribute":{"field":"a\"b","operator":"exists"}}`, "conditions.attribute.field", "quotes"},
		{"not JSON", `{"and":`, "conditions", "must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := herald.ParseConditions(json.RawMessage(tc.tree), "conditions")
			e := herald.AsError(err)
			if err == nil || e.Field != tc.field || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error = %v (field %q), want field %q and a message with %q", err, e.Field, tc.field, tc.message)
			}
		})
	}
}

func TestParseConditionsAcceptsCustomerIOLeaves(t *testing.T) {
	t.Parallel()
	c, err := herald.ParseConditions(json.RawMessage(`{"and":[{"object_attribute":{"type_id":"1","field":"plan","operator":"eq","value":"premium"}},
		{"relationship_attribute":{"type_id":1,"field":"role","operator":"eq","value":"admin"}}]}`), "conditions")
	if err != nil {
		t.Fatal(err)
	}
	if c.And[0].Related == nil || c.And[0].Related.TypeID != 1 || c.And[0].Related.Object == nil || c.And[1].Related.Relationship == nil {
		t.Errorf("Customer.io leaves parse as %+v %+v, want related conditions", c.And[0], c.And[1])
	}
}

func TestAttrCondCompare(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Unix()
	cases := []struct {
		leaf  string
		value string // JSON; "" means absent
		want  bool
	}{
		{`{"field":"n","operator":"gt","value":10000}`, `"12000"`, true}, // numbers sent as strings
		{`{"field":"n","operator":"gt","value":"10000"}`, `9000.5`, false},
		{`{"field":"n","operator":"eq","value":"10"}`, `10.0`, true},
		{`{"field":"n","operator":"gt","value":"b"}`, `"c"`, true}, // strings order byte by byte
		{`{"field":"n","operator":"eq","value":true}`, `true`, true},
		{`{"field":"n","operator":"ne","value":"x"}`, ``, true},
		{`{"field":"n","operator":"contains","value":"ÄR"}`, `"ärger"`, true},
		{`{"field":"n","operator":"starts_with","value":"mad"}`, `"Madison WI"`, true},
		{`{"field":"n","operator":"ends_with","value":"wi"}`, `"Madison WI"`, true},
		{`{"field":"n","operator":"in","value":["a",5]}`, `"5"`, true},
		{`{"field":"n","operator":"not_contains","value":"x"}`, ``, true},
		{`{"field":"n","operator":"more_than_days_ago","value":7}`, jsonInt(now - 8*86400), true},
		{`{"field":"n","operator":"more_than_days_ago","value":7}`, jsonInt(now - 6*86400), false},
		{`{"field":"n","operator":"less_than_days_from_now","value":2}`, `"` + strings.Trim(jsonInt(now+86400), `"`) + `"`, true},
		{`{"field":"n","operator":"before","value":"2026-05-01"}`, jsonInt(now - 40*86400), true},
		{`{"field":"n","operator":"after","value":"2026-05-01"}`, `"soon"`, false},
		{`{"field":"n","operator":"gt","value":1}`, `"1e400"`, true}, // not a number: compared as text
	}
	for _, tc := range cases {
		t.Run(tc.leaf+" "+tc.value, func(t *testing.T) {
			t.Parallel()
			c, err := herald.ParseConditions(json.RawMessage(`{"attribute":`+tc.leaf+`}`), "c")
			if err != nil {
				t.Fatal(err)
			}
			attrs := herald.Attributes{}
			if tc.value != "" {
				attrs["n"] = json.RawMessage(tc.value)
			}
			if got := c.Attr.MatchIn(attrs, now); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func FuzzParseConditions(f *testing.F) {
	for _, seed := range []string{
		`{"and":[{"attribute":{"field":"a","operator":"eq","value":1}},{"not":{"segment":{"id":2}}}]}`,
		`{"related":{"type_id":1,"object":{"attribute":{"field":"x","operator":"gt","value":"5"}},"count":{"operator":"gte","value":2}}}`,
		`{"event":{"name":"e","data":{"or":[{"attribute":{"field":"s","operator":"in","value":[1,2]}}]},"within_days":3}}`,
		`{"object_attribute":{"type_id":"1","field":"plan","operator":"exists"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tree string) {
		c, err := herald.ParseConditions(json.RawMessage(tree), "conditions")
		if err != nil {
			if herald.AsError(err).Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		c.Match(emptySubject{}, 0) // a parsed tree evaluates without panicking
	})
}

type emptySubject struct{}

func (emptySubject) Attributes() herald.Attributes     { return nil }
func (emptySubject) InSegment(int64) bool              { return false }
func (emptySubject) Events(string) []herald.EventFacts { return nil }
func (emptySubject) Related(int) []herald.RelatedFacts { return nil }
