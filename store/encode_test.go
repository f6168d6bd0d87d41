package store

import (
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald"
)

func TestEncodeAttrsMatchesEncodingJSON(t *testing.T) {
	cases := map[string]herald.Attributes{
		"empty":           {},
		"nil":             nil,
		"plain":           {"b": json.RawMessage(`"x"`), "a": json.RawMessage(`1`), "c": json.RawMessage(`{"k":[1,2]}`)},
		"escaped names":   {"quote\"d": json.RawMessage(`true`), "tab\tname": json.RawMessage(`null`), "ünï": json.RawMessage(`"v"`), `back\slash`: json.RawMessage(`2`)},
		"html in a value": {"note": json.RawMessage(`"a<b & c>d"`)},
	}
	for name, attrs := range cases {
		t.Run(name, func(t *testing.T) {
			got := encodeAttrs(attrs)
			var back herald.Attributes
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatalf("encodeAttrs(%v) = %s: not JSON: %v", attrs, got, err)
			}
			if len(back) != len(attrs) {
				t.Fatalf("encodeAttrs(%v) = %s: %d attributes back, want %d", attrs, got, len(back), len(attrs))
			}
			for k, v := range attrs {
				if string(back[k]) != string(v) {
					t.Errorf("attribute %q = %s after a round trip, want %s byte for byte", k, back[k], v)
				}
			}
		})
	}
	t.Run("keys in order", func(t *testing.T) {
		if got := encodeAttrs(cases["plain"]); got != `{"a":1,"b":"x","c":{"k":[1,2]}}` {
			t.Errorf("encodeAttrs = %s", got)
		}
	})
	t.Run("invalid JSON panics as json.Marshal fails", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("no panic for an invalid value")
			}
		}()
		encodeAttrs(herald.Attributes{"x": json.RawMessage(`{`)})
	})
}

func TestEncodeTimesMatchesEncodingJSON(t *testing.T) {
	for _, times := range []map[string]int64{nil, {}, {"b": 2, "a": -1, "ünï": 1 << 40}} {
		want, _ := json.Marshal(times)
		if times == nil {
			want = []byte("{}")
		}
		if got := encodeTimes(times); got != string(want) {
			t.Errorf("encodeTimes(%v) = %s, want %s", times, got, want)
		}
	}
}

func TestEncodeIdentifiersMatchesEncodingJSON(t *testing.T) {
	for _, id := range []*herald.Identifiers{nil, {}, {ID: "42", Email: "a@b.co", CioID: "c1"}, {ID: `q"`, AnonymousID: "anon"}} {
		want, _ := json.Marshal(id)
		if got := encodeIdentifiers(id); got != string(want) {
			t.Errorf("encodeIdentifiers(%+v) = %s, want %s", id, got, want)
		}
	}
}
