package journey_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func TestRelationshipTriggerByRole(t *testing.T) {
	t.Parallel()
	// Collaboo: a person related to a company as admin gets the admin onboarding, a
	// contributor the contributor one; someone who is both (in two companies) gets both.
	engines(t, func(t *testing.T, w *world) {
		for _, role := range []string{"admin", "contributor"} {
			w.campaign(t, fmt.Sprintf(`{"name":"%[1]s onboarding","trigger":{"type":"relationship_added","type_id":1,
				"relationship":{"attribute":{"field":"user_role","operator":"eq","value":%[1]q}}},
				"frequency":"once_per_object","workflow":[%[2]s]}`, role, sendStep("Welcome, "+role)))
		}
		w.apply(t, relate("ann", rel(1, "collaboo", "user_role", "admin")), relate("bob", rel(1, "collaboo", "user_role", "contributor")),
			relate("cat", rel(1, "collaboo", "user_role", "contributor"), rel(1, "acme", "user_role", "admin")))
		w.settle(t)
		want := []string{"ann:Welcome, admin", "bob:Welcome, contributor", "cat:Welcome, admin", "cat:Welcome, contributor"}
		if got := w.out.messages(t, w); !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		if r := w.out.sent[0]; r.TriggerObject == nil || r.TriggerObject.TypeID != 1 || r.CampaignID == 0 || r.DeliveryID == "" {
			t.Errorf("send request lacks its trigger object, campaign or delivery id: %+v", r)
		}
	})
}

func TestObjectTriggerAudience(t *testing.T) {
	t.Parallel()
	// TeleWell: when an appointment is booked (its status becomes booked) its doctor — and
	// only its doctor — is told; no cap on how many people an object fans out to.
	engines(t, func(t *testing.T, w *world) {
		w.campaign(t, `{"name":"doctor told","trigger":{"type":"object_updated","type_id":2,"changed":["appointment_status"],
			"object":{"attribute":{"field":"appointment_status","operator":"eq","value":"booked"}},
			"audience":{"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"doctor"}}}},
			"frequency":"every_time","workflow":[`+sendStep("A patient booked")+`]}`)
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 2, ObjectID: "apt-1"}, Attributes: attrs("appointment_status", "draft")},
			relate("dr-who", rel(2, "apt-1", "user_role", "doctor")), relate("pat", rel(2, "apt-1", "user_role", "patient")))
		w.settle(t)
		if got := w.out.messages(t, w); len(got) != 0 {
			t.Fatalf("sent %v before the booking", got)
		}
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 2, ObjectID: "apt-1"}, Attributes: attrs("appointment_status", "booked")})
		w.settle(t)
		if got, want := w.out.messages(t, w), []string{"dr-who:A patient booked"}; !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		// A change of another attribute does not fire.
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 2, ObjectID: "apt-1"}, Attributes: attrs("room", "3")})
		w.settle(t)
		if got := len(w.out.messages(t, w)); got != 1 {
			t.Errorf("%d messages after an unrelated change, want still 1", got)
		}
	})
}

func TestNoFanOutCap(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		w.campaign(t, `{"name":"big account","trigger":{"type":"object_updated","type_id":1},"frequency":"every_time","workflow":[`+sendStep("News")+`]}`)
		var ops []herald.Op
		for i := range 1500 { // Customer.io refuses more than 1,000
			ops = append(ops, relate(fmt.Sprintf("p%d", i), rel(1, "big", "user_role", "member")))
		}
		w.apply(t, ops...)
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "big"}, Attributes: attrs("plan", "enterprise")})
		w.settle(t)
		if got := len(w.out.messages(t, w)); got != 1500 {
			t.Errorf("%d people messaged, want all 1500 related people", got)
		}
	})
}

func TestEventTriggerDelayAndBranch(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		c := w.campaign(t, `{"name":"tickets","trigger":{"type":"event","name":"ticket_bought","data":{"attribute":{"field":"seats","operator":"gte","value":2}}},
			"frequency":"every_time","workflow":[
				`+sendStep("Thanks")+`,
				{"id":"wait","delay":"24h"},
				{"branch":{"if":{"person":{"attribute":{"field":"vip","operator":"eq","value":true}}},
					"then":[`+sendStep("VIP lounge")+`],
					"else":[`+sendStep("Upgrade?")+`]}},
				{"update":{"target":"person","attributes":{"followed_up":true}}}]}`)
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("vip", true)}, &herald.IdentifyPerson{Ref: person("bob")})
		ev := func(p string, seats int) herald.Op {
			return &herald.TrackEvent{Event: herald.Event{Person: person(p), Name: "ticket_bought", Type: herald.EventCustom, Data: []byte(fmt.Sprintf(`{"seats":%d}`, seats))}}
		}
		w.apply(t, ev("ann", 2), ev("bob", 3), ev("bob", 1))
		w.settle(t)
		if got, want := w.out.messages(t, w), []string{"ann:Thanks", "bob:Thanks"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("sent %v, want %v (one seat does not qualify)", got, want)
		}
		if ev := w.out.sent[0].Event; ev == nil || ev.Name != "ticket_bought" || ev.Data["seats"] == nil {
			t.Errorf("send request event = %+v, want the triggering event", ev)
		}
		w.after(t, 23*time.Hour)
		if got := len(w.out.messages(t, w)); got != 2 {
			t.Fatalf("%d messages before the delay is over, want 2", got)
		}
		w.after(t, time.Hour)
		want := []string{"ann:Thanks", "ann:VIP lounge", "bob:Thanks", "bob:Upgrade?"}
		if got := w.out.messages(t, w); !reflect.DeepEqual(got, want) {
			t.Errorf("after the delay: sent %v, want %v", got, want)
		}
		p, _ := w.s.Person(context.Background(), w.ws, person("bob"))
		if string(p.Attributes["followed_up"]) != "true" {
			t.Errorf("bob's attributes = %v, want followed_up set by the update step", p.Attributes)
		}
		metrics, _ := w.s.JourneyMetrics(context.Background(), c.ID)
		counts := map[string]int64{}
		for _, m := range metrics {
			counts[m.StepID+"/"+m.Metric] = m.Count
		}
		if counts["/entered"] != 2 || counts["/completed"] != 2 || counts["1/sent"] != 2 || counts["3.then.1/sent"] != 1 || counts["3.else.1/sent"] != 1 {
			t.Errorf("metrics = %v", counts)
		}
	})
}

func TestExitWhenFilterStopsMatching(t *testing.T) {
	t.Parallel()
	// CodeCamp: promotions go to people not enrolled in Python 101 and stop at enrolment.
	engines(t, func(t *testing.T, w *world) {
		notEnrolled := `{"not":{"related":{"type_id":3,"object":{"attribute":{"field":"object_id","operator":"eq","value":"py101"}},
			"relationship":{"attribute":{"field":"enrollment_status","operator":"eq","value":"enrolled"}}}}}`
		w.campaign(t, `{"name":"promote","trigger":{"type":"attribute_changed","attribute":"interest","to":"python"},"filter":`+notEnrolled+`,
			"workflow":[`+sendStep("Python 101 starts soon")+`,{"delay":"2d"},`+sendStep("Last seats")+`]}`)
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 3, ObjectID: "py101"}, Attributes: attrs("name", "Python 101")})
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("interest", "python")},
			&herald.IdentifyPerson{Ref: person("bob"), Attributes: attrs("interest", "python")},
			&herald.IdentifyPerson{Ref: person("cat"), Attributes: attrs("interest", "go")})
		w.settle(t)
		w.apply(t, relate("bob", rel(3, "py101", "enrollment_status", "enrolled")))
		w.after(t, 48*time.Hour)
		want := []string{"ann:Last seats", "ann:Python 101 starts soon", "bob:Python 101 starts soon"}
		if got := w.out.messages(t, w); !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v (bob enrolled: no more promotions)", got, want)
		}
		pk := func(id string) int64 { p, _ := w.s.Person(context.Background(), w.ws, person(id)); return p.PK }
		js, _ := w.s.PersonJourneys(context.Background(), pk("bob"), 0)
		if len(js) != 1 || js[0].State != herald.JourneyExited {
			t.Errorf("bob's journeys = %+v, want one exited", js)
		}
		// Frequency once: the same trigger again starts nothing for ann.
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("interest", "go")})
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("interest", "python")})
		w.after(t, 72*time.Hour)
		if got := len(w.out.messages(t, w)); got != 3 {
			t.Errorf("%d messages after ann triggered again, want 3 (once per person)", got)
		}
	})
}

func TestUpdateTriggerObjectAndRelationship(t *testing.T) {
	t.Parallel()
	// TradeUp: an account crossing $10k gets a portfolio manager (an object attribute) and
	// its holder's relationship becomes vip.
	engines(t, func(t *testing.T, w *world) {
		w.campaign(t, `{"name":"vip","trigger":{"type":"object_updated","type_id":1,"changed":["portfolio_amount"],
			"object":{"attribute":{"field":"portfolio_amount","operator":"gt","value":10000}}},"frequency":"once_per_object",
			"workflow":[{"update":{"target":"object","attributes":{"portfolio_manager":"Dana"}}},
				{"update":{"target":"relationship","attributes":{"tier":"vip"}}},
				{"update":{"target":"journey","attributes":{"step":"enrolled"}}},
				{"branch":{"if":{"journey":{"attribute":{"field":"step","operator":"eq","value":"enrolled"}},
					"object":{"attribute":{"field":"portfolio_manager","operator":"eq","value":"Dana"}}},
					"then":[`+sendStep("Meet Dana")+`]}}]}`)
		w.apply(t, relate("ann", rel(1, "acc-1", "user_role", "owner")))
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acc-1"}, Attributes: attrs("portfolio_amount", 9000)})
		w.settle(t)
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acc-1"}, Attributes: attrs("portfolio_amount", "12000")})
		w.settle(t)
		if got, want := w.out.messages(t, w), []string{"ann:Meet Dana"}; !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
		o, _ := w.s.Object(context.Background(), w.ws, herald.ObjectRef{TypeID: 1, ObjectID: "acc-1"})
		if string(o.Attributes["portfolio_manager"]) != `"Dana"` {
			t.Errorf("object attributes = %v", o.Attributes)
		}
		p, _ := w.s.Person(context.Background(), w.ws, person("ann"))
		rels, _, _ := w.s.PersonObjects(context.Background(), p.PK, herald.Page{})
		if len(rels) != 1 || string(rels[0].Attributes["tier"]) != `"vip"` {
			t.Errorf("relationships = %+v, want tier vip", rels)
		}
	})
}

func TestBroadcastTrigger(t *testing.T) {
	t.Parallel()
	// POST /v1/campaigns/{id}/triggers: named people (missing ones skipped) with the
	// trigger's data, or everyone the campaign's filter matches.
	engines(t, func(t *testing.T, w *world) {
		w.campaign(t, `{"name":"api","trigger":{"type":"api"},"workflow":[`+sendStep("One")+`,`+sendStep("Two")+`]}`)
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann")}, &herald.IdentifyPerson{Ref: person("bob")})
		cs, _ := w.s.Campaigns(context.Background(), w.ws)
		id, n, err := w.e.TriggerBroadcast(context.Background(), w.ws, cs[0].ID, herald.Broadcast{IDs: []string{"ann", "nobody"}, Data: map[string]any{"x": 1}})
		if err != nil || id == 0 || n != 1 {
			t.Fatalf("trigger = %d, %d, %v; want one journey", id, n, err)
		}
		first := w.out
		w.settle(t)
		ids := map[string]bool{}
		for _, r := range first.sent {
			ids[r.DeliveryID] = true
		}
		if len(first.sent) != 2 || len(ids) != 2 || first.sent[0].Data["x"] == nil {
			t.Fatalf("sent %+v, want two messages with distinct delivery ids and the trigger data", first.sent)
		}
		// Everyone the filter matches (no filter: everyone) when no recipient is named.
		if _, n, err := w.e.TriggerBroadcast(context.Background(), w.ws, cs[0].ID, herald.Broadcast{}); err != nil || n != 2 {
			t.Errorf("broadcast to everyone started %d journeys (%v), want 2", n, err)
		}
	})
}
