package herald_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

func TestMerge(t *testing.T) {
	t.Parallel()
	cur := herald.Attributes{"a": json.RawMessage(`1`), "b": json.RawMessage(`"x"`), "late": json.RawMessage(`"new"`)}
	times := map[string]int64{"a": 10, "b": 10, "late": 50}
	update := herald.Attributes{"a": json.RawMessage(`1`), "b": json.RawMessage(`null`), "c": json.RawMessage(`{ "k" : 1 }`),
		"late": json.RawMessage(`"old"`), "gone": json.RawMessage(`""`)}
	next, nextTimes, diff := herald.Merge(cur, times, update, 20)
	if want := (herald.Attributes{"a": json.RawMessage(`1`), "c": json.RawMessage(`{"k":1}`), "late": json.RawMessage(`"new"`)}); !reflect.DeepEqual(next, want) {
		t.Errorf("next = %s, want %s", dump(next), dump(want))
	}
	if want := map[string]int64{"a": 10, "c": 20, "late": 50}; !reflect.DeepEqual(nextTimes, want) {
		t.Errorf("times = %v, want %v", nextTimes, want)
	}
	if len(diff) != 2 || string(diff["b"].From) != `"x"` || diff["b"].To != nil || string(diff["c"].To) != `{"k":1}` {
		t.Errorf("diff = %s", dump(diff))
	}
	if _, ok := cur["c"]; ok {
		t.Error("Merge modified its input")
	}
}

func dump(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestJSONStringKeepsHTMLAndEscapesWhatJSONNeeds(t *testing.T) {
	for _, s := range []string{"", "plain", "a<b & c>d", `quo"te`, `back\slash`, "tab\there", "ünïcode", "\x7f", "bad utf8 \xff"} {
		got := herald.JSONString(s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("herald.JSONString(%q) = %s: not JSON: %v", s, got, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want {
			t.Errorf("herald.JSONString(%q) reads back as %q", s, back)
		}
		if strings.Contains(string(got), `\u003c`) {
			t.Errorf("herald.JSONString(%q) = %s escapes HTML", s, got)
		}
	}
}

func TestDiffDataEncodesFromAndTo(t *testing.T) {
	d := map[string]herald.Diff{
		"b":        {From: json.RawMessage(`1`), To: json.RawMessage(`"<x>"`)},
		"a":        {To: json.RawMessage(`{"k":true}`)},
		"quo\"ted": {From: json.RawMessage(`null`)},
	}
	want := `{"a":{"from":null,"to":{"k":true}},"b":{"from":1,"to":"<x>"},"quo\"ted":{"from":null,"to":null}}`
	if got := string(herald.DiffData(d)); got != want {
		t.Errorf("DiffData = %s\nwant        %s", got, want)
	}
	if got := string(herald.DiffData(nil)); got != "null" {
		t.Errorf("herald.DiffData(nil) = %s, want null", got)
	}
}
