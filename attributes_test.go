package herald_test

import (
	"encoding/json"
	"reflect"
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
