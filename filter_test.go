package herald_test

import (
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	attrs := herald.Attributes{"amount": json.RawMessage(`"15000"`), "plan": json.RawMessage(`"Pro"`), "n": json.RawMessage(`7`)}
	tests := []struct {
		name, filter string
		want         bool
	}{
		{"eq string", `{"attribute":{"field":"plan","operator":"eq","value":"Pro"}}`, true},
		{"numeric string gt number", `{"attribute":{"field":"amount","operator":"gt","value":10000}}`, true},
		{"number eq numeric string", `{"attribute":{"field":"n","operator":"eq","value":"7.0"}}`, true},
		{"lte", `{"attribute":{"field":"n","operator":"lte","value":6}}`, false},
		{"exists", `{"attribute":{"field":"plan","operator":"exists"}}`, true},
		{"not_exists on missing", `{"attribute":{"field":"gone","operator":"not_exists"}}`, true},
		{"ne on missing", `{"attribute":{"field":"gone","operator":"ne","value":"x"}}`, true},
		{"contains ignores case", `{"attribute":{"field":"plan","operator":"contains","value":"pr"}}`, true},
		{"starts_with", `{"attribute":{"field":"plan","operator":"starts_with","value":"x"}}`, false},
		{"in", `{"attribute":{"field":"n","operator":"in","value":[1,7]}}`, true},
		{"and", `{"and":[{"attribute":{"field":"n","operator":"gt","value":1}},{"attribute":{"field":"plan","operator":"eq","value":"Free"}}]}`, false},
		{"or", `{"or":[{"attribute":{"field":"n","operator":"gt","value":100}},{"attribute":{"field":"plan","operator":"eq","value":"Pro"}}]}`, true},
		{"not", `{"not":{"attribute":{"field":"plan","operator":"eq","value":"Pro"}}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := herald.ParseFilter(json.RawMessage(tt.filter), "filter", "attribute")
			if err != nil {
				t.Fatal(err)
			}
			got := f.Match(func(c *herald.Condition) bool { v, ok := attrs[c.Field]; return c.Compare(v, ok) })
			if got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterErrorsNameThePath(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, filter, wantField string }{
		{"two keys", `{"and":[],"or":[]}`, "filter"},
		{"empty and", `{"and":[]}`, "filter.and"},
		{"bad operator deep", `{"or":[{"attribute":{"field":"a","operator":"eq","value":1}},{"not":{"attribute":{"field":"b","operator":"like","value":1}}}]}`, "filter.or[1].not.attribute.operator"},
		{"missing value", `{"attribute":{"field":"a","operator":"gt"}}`, "filter.attribute.value"},
		{"missing field", `{"attribute":{"operator":"exists"}}`, "filter.attribute.field"},
		{"leaf not allowed here", `{"segment":{"id":1}}`, "filter"},
		{"in without array", `{"attribute":{"field":"a","operator":"in","value":1}}`, "filter.attribute.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := herald.ParseFilter(json.RawMessage(tt.filter), "filter", "attribute")
			if got := herald.AsError(err).Field; err == nil || got != tt.wantField {
				t.Errorf("err = %v (field %q), want field %q", err, got, tt.wantField)
			}
		})
	}
}

// FuzzParseFilter: the filter parser never panics, and what it accepts evaluates without panic.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		`{"and":[{"object_attribute":{"type_id":1,"field":"plan","operator":"eq","value":"premium"}},{"not":{"object_attribute":{"type_id":"1","field":"name","operator":"exists"}}}]}`,
		`{"or":[{"attribute":{"field":"a","operator":"in","value":[1,"2"]}}]}`,
		`{"not":{"not":{"not":{}}}}`, `[]`, `null`, `{"attribute":{"field":"a","operator":"gt","value":"x"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		flt, err := herald.ParseFilter(raw, "filter", "attribute", "object_attribute")
		if err != nil {
			return
		}
		attrs := herald.Attributes{"a": json.RawMessage(`"1"`), "plan": json.RawMessage(`2`)}
		flt.Match(func(c *herald.Condition) bool { v, ok := attrs[c.Field]; return c.Compare(v, ok) })
	})
}
