package journey_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// TestWaitUntilAndTimeout: a wait_until step goes on when its condition comes to hold, and
// takes its timeout path when it does not in time.
func TestWaitUntilAndTimeout(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		w.e.WaitPoll = time.Minute
		w.campaign(t, `{"name":"activate","trigger":{"type":"event","name":"signup"},"workflow":[
			{"id":"wait","wait_until":{"person":{"attribute":{"field":"activated","operator":"eq","value":true}}},"timeout":"2h",
				"on_timeout":[`+sendStep("Need help?")+`,{"exit":true}]},
			`+sendStep("Great start")+`]}`)
		for _, p := range []string{"ann", "bob"} {
			w.apply(t, &herald.TrackEvent{Event: herald.Event{Person: person(p), Name: "signup", Type: herald.EventCustom}})
		}
		w.settle(t)
		w.after(t, 30*time.Minute)
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("activated", true)})
		w.after(t, time.Minute) // the next check sees it
		if got, want := w.out.messages(t, w), []string{"ann:Great start"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after ann activated: %v, want %v", got, want)
		}
		w.after(t, 2*time.Hour)
		if got, want := w.out.messages(t, w), []string{"ann:Great start", "bob:Need help?"}; !reflect.DeepEqual(got, want) {
			t.Errorf("after the timeout: %v, want %v (bob exits after the help message)", got, want)
		}
	})
}

// TestTimeWindowSplitsAndSegments: a time window holds a message until the window opens; a
// multi-split takes the first branch that holds; a random split is fixed per journey and
// follows its weights; a segment step adds the person to a manual segment.
func TestTimeWindowSplitsAndSegments(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		seg, err := w.s.CreateSegment(ctx, w.ws, herald.Segment{Name: "engaged"})
		if err != nil {
			t.Fatal(err)
		}
		w.campaign(t, fmt.Sprintf(`{"name":"tiers","trigger":{"type":"api"},"workflow":[
			{"time_window":{"from_hour":14,"to_hour":16,"days":["mon","tue","wed","thu","fri"]}},
			{"split":[
				{"if":{"person":{"attribute":{"field":"plan","operator":"eq","value":"gold"}}},"steps":[%s]},
				{"if":{"person":{"attribute":{"field":"plan","operator":"eq","value":"silver"}}},"steps":[%s]},
				{"steps":[%s]}]},
			{"random":[{"weight":1,"steps":[{"update":{"target":"person","attributes":{"cohort":"a"}}}]},
			           {"weight":3,"steps":[{"update":{"target":"person","attributes":{"cohort":"b"}}}]}]},
			{"segment":{"id":%d,"action":"add"}}]}`, sendStep("Gold"), sendStep("Silver"), sendStep("Basic"), seg.ID))
		var ids []string
		for i := range 40 {
			plan := []string{"gold", "silver", "bronze", ""}[i%4]
			w.apply(t, &herald.IdentifyPerson{Ref: person(fmt.Sprintf("p%d", i)), Attributes: attrs("plan", plan)})
			ids = append(ids, fmt.Sprintf("p%d", i))
		}
		cs, _ := w.s.Campaigns(ctx, w.ws)
		if _, _, err := w.e.TriggerBroadcast(ctx, w.ws, cs[0].ID, herald.Broadcast{IDs: ids}); err != nil {
			t.Fatal(err)
		}
		w.settle(t) // Monday 09:00 UTC: the window opens at 14:00
		if got := len(w.out.messages(t, w)); got != 0 {
			t.Fatalf("%d messages before the window opened", got)
		}
		w.after(t, 5*time.Hour)
		counts := map[string]int{}
		for _, m := range w.out.messages(t, w) {
			counts[m[len(m)-4:]]++
		}
		if want := map[string]int{"Gold": 10, "lver": 10, "asic": 20}; !reflect.DeepEqual(counts, want) {
			t.Errorf("messages by tier = %v, want %v", counts, want)
		}
		cohorts := map[string]int{}
		for _, id := range ids {
			p, _ := w.s.Person(ctx, w.ws, person(id))
			cohorts[string(p.Attributes["cohort"])]++
		}
		if cohorts[`"a"`]+cohorts[`"b"`] != 40 || cohorts[`"a"`] < 3 || cohorts[`"b"`] < 20 {
			t.Errorf("cohorts = %v, want all 40 split about 1:3", cohorts)
		}
		if n, _ := w.s.SegmentCount(ctx, seg.ID); n != 40 {
			t.Errorf("segment has %d members, want 40", n)
		}
	})
}
