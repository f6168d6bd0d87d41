package segment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/segment"
	"pgregory.net/rapid"
)

var (
	valueOps = []string{"eq", "ne", "exists", "not_exists", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with", "ends_with", "in"}
	timeOps  = []string{"before", "after", "more_than_days_ago", "less_than_days_ago", "more_than_days_from_now", "less_than_days_from_now"}
	countOps = []string{"eq", "ne", "gt", "gte", "lt", "lte"}
)

// genAttr draws an attribute leaf over fields.
func genAttr(t *rapid.T, fields []string) map[string]any {
	field := rapid.SampledFrom(fields).Draw(t, "field")
	if field == "signed_up" && rapid.Bool().Draw(t, "timeRule") {
		op := rapid.SampledFrom(timeOps).Draw(t, "timeOp")
		var v any = rapid.IntRange(0, 20).Draw(t, "days")
		if op == "before" || op == "after" {
			v = now.Unix() + int64(rapid.IntRange(-20, 20).Draw(t, "offset"))*day
		}
		return map[string]any{"attribute": map[string]any{"field": field, "operator": op, "value": v}}
	}
	op := rapid.SampledFrom(valueOps).Draw(t, "op")
	leaf := map[string]any{"field": field, "operator": op}
	switch op {
	case "exists", "not_exists":
	case "in":
		leaf["value"] = []any{rapid.SampledFrom(values).Draw(t, "v1"), rapid.SampledFrom(values).Draw(t, "v2")}
	default:
		leaf["value"] = rapid.SampledFrom(values).Draw(t, "value")
	}
	return map[string]any{"attribute": leaf}
}

// genAttrTree draws an and/or/not tree of attribute leaves.
func genAttrTree(t *rapid.T, fields []string, depth int) map[string]any {
	switch k := rapid.IntRange(0, 5).Draw(t, "attrNode"); {
	case depth > 0 && k == 0:
		return map[string]any{"not": genAttrTree(t, fields, depth-1)}
	case depth > 0 && k <= 2:
		key := rapid.SampledFrom([]string{"and", "or"}).Draw(t, "combinator")
		return map[string]any{key: []any{genAttrTree(t, fields, depth-1), genAttrTree(t, fields, depth-1)}}
	}
	return genAttr(t, fields)
}

func genCount(t *rapid.T) map[string]any {
	return map[string]any{"operator": rapid.SampledFrom(countOps).Draw(t, "countOp"), "value": rapid.IntRange(0, 3).Draw(t, "count")}
}

// genCond draws a segment condition tree with every kind of leaf.
func genCond(t *rapid.T, manual int64, depth int) map[string]any {
	k := rapid.IntRange(0, 9).Draw(t, "node")
	if depth > 0 && k <= 2 {
		if k == 0 {
			return map[string]any{"not": genCond(t, manual, depth-1)}
		}
		key := rapid.SampledFrom([]string{"and", "or"}).Draw(t, "combinator")
		return map[string]any{key: []any{genCond(t, manual, depth-1), genCond(t, manual, depth-1)}}
	}
	switch k {
	case 3, 4:
		return genAttr(t, personFields)
	case 5:
		return map[string]any{"segment": map[string]any{"id": manual}}
	case 6:
		ev := map[string]any{"name": rapid.SampledFrom(eventNames).Draw(t, "event")}
		if rapid.Bool().Draw(t, "hasData") {
			ev["data"] = genAttrTree(t, eventFields, 1)
		}
		if rapid.Bool().Draw(t, "hasCount") {
			ev["count"] = genCount(t)
		}
		switch rapid.IntRange(0, 2).Draw(t, "window") {
		case 1:
			ev["within_days"] = rapid.IntRange(1, 40).Draw(t, "days")
		case 2:
			ev["between"] = []any{now.Unix() - 40*day, now.Unix() - int64(rapid.IntRange(0, 30).Draw(t, "to"))*day}
		}
		return map[string]any{"event": ev}
	case 7:
		leaf := rapid.SampledFrom([]string{"object_attribute", "relationship_attribute"}).Draw(t, "cioLeaf")
		fields := objectFields
		if leaf == "relationship_attribute" {
			fields = relFields
		}
		a := genAttr(t, fields)["attribute"].(map[string]any)
		a["type_id"] = fmt.Sprint(rapid.IntRange(1, 2).Draw(t, "type"))
		return map[string]any{leaf: a}
	}
	rel := map[string]any{"type_id": rapid.IntRange(1, 2).Draw(t, "type")}
	if rapid.Bool().Draw(t, "hasObject") {
		rel["object"] = genAttrTree(t, objectFields, 1)
	}
	if rapid.Bool().Draw(t, "hasRelationship") {
		rel["relationship"] = genAttrTree(t, relFields, 1)
	}
	if rapid.Bool().Draw(t, "hasCount") {
		rel["count"] = genCount(t)
	}
	return map[string]any{"related": rel}
}

// TestCompiledMatchesReference is the differential property: on random graphs and random
// trees, the compiled SQL selects exactly the people the in-memory evaluator matches, over
// everyone and restricted to a few people.
func TestCompiledMatchesReference(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		manual := w.populate(t, 1, 40)
		people := w.snapshot(t)
		if len(people) != 40 {
			t.Fatalf("snapshot has %d people, want 40", len(people))
		}
		ctx := context.Background()
		total, nonEmpty, partial := 0, 0, 0
		t.Cleanup(func() {
			// The property proves little if random trees all select nobody or everyone.
			if !t.Failed() && (nonEmpty*5 < total || partial*5 < total) {
				t.Errorf("of %d trees only %d selected anyone and %d some but not all; the generator is too weak", total, nonEmpty, partial)
			}
			t.Logf("of %d trees %d selected someone, %d some but not all", total, nonEmpty, partial)
		})
		rapid.Check(t, func(rt *rapid.T) {
			tree := genCond(rt, manual, 3)
			src, _ := json.Marshal(tree)
			c, err := herald.ParseConditions(src, "conditions")
			if err != nil {
				rt.Fatalf("generated tree %s does not parse: %v", src, err)
			}
			want := expected(people, c)
			total++
			if len(want) > 0 {
				nonEmpty++
			}
			if len(want) > 0 && len(want) < len(people) {
				partial++
			}
			q, err := segment.Compile(w.s.Engine(), w.ws, c, now.Unix(), nil)
			if err != nil {
				rt.Fatal(err)
			}
			got, err := w.s.QueryPKs(ctx, q.SQL, q.Args...)
			if err != nil {
				rt.Fatalf("%s\n%s", src, err)
			}
			if !reflect.DeepEqual(sorted(got), want) {
				rt.Fatalf("tree %s\nSQL members %v\nreference   %v\nSQL: %s", src, sorted(got), want, q.SQL)
			}
			var few []int64
			for i, p := range people {
				if i%3 == 0 {
					few = append(few, p.pk)
				}
			}
			q, _ = segment.Compile(w.s.Engine(), w.ws, c, now.Unix(), few)
			got, err = w.s.QueryPKs(ctx, q.SQL, q.Args...)
			if err != nil {
				rt.Fatalf("%s\n%s", src, err)
			}
			var wantFew []int64
			inFew := map[int64]bool{}
			for _, pk := range few {
				inFew[pk] = true
			}
			for _, pk := range want {
				if inFew[pk] {
					wantFew = append(wantFew, pk)
				}
			}
			if !reflect.DeepEqual(sorted(got), sorted(wantFew)) {
				rt.Fatalf("restricted: tree %s\nSQL members %v\nreference   %v\nSQL: %s", src, sorted(got), sorted(wantFew), q.SQL)
			}
		})
	})
}
