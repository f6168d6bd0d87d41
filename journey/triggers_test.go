package journey_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
)

// TestSegmentTriggers: entering and leaving a data-driven segment start journeys.
func TestSegmentTriggers(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		g, err := w.s.CreateSegment(context.Background(), w.ws, herald.Segment{Name: "vip",
			Conditions: []byte(`{"attribute":{"field":"vip","operator":"eq","value":true}}`)})
		if err != nil {
			t.Fatal(err)
		}
		w.campaign(t, fmt.Sprintf(`{"name":"in","trigger":{"type":"segment_entered","segment_id":%d},"frequency":"every_time","workflow":[%s]}`, g.ID, sendStep("Welcome to VIP")))
		w.campaign(t, fmt.Sprintf(`{"name":"out","trigger":{"type":"segment_exited","segment_id":%d},"frequency":"every_time","workflow":[%s]}`, g.ID, sendStep("Sorry to see you go")))
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("vip", true)}, &herald.IdentifyPerson{Ref: person("bob"), Attributes: attrs("vip", false)})
		w.settle(t)
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("vip", false)})
		w.settle(t)
		if got, want := w.out.messages(t, w), []string{"ann:Sorry to see you go", "ann:Welcome to VIP"}; !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
	})
}

// TestObjectAndRelationshipTriggers: an object's creation, and a relationship's change of
// attributes and its removal, each start the campaigns waiting for them; a change the
// trigger's conditions exclude starts nothing.
func TestObjectAndRelationshipTriggers(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		w.campaign(t, `{"name":"new company","trigger":{"type":"object_created","type_id":1,
			"object":{"attribute":{"field":"plan","operator":"eq","value":"enterprise"}}},"workflow":[`+sendStep("New enterprise company")+`]}`)
		w.campaign(t, `{"name":"promoted","trigger":{"type":"relationship_changed","type_id":1,"changed":["user_role"],
			"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"admin"}}},"frequency":"every_time","workflow":[`+sendStep("You are an admin now")+`]}`)
		w.campaign(t, `{"name":"left","trigger":{"type":"relationship_removed","type_id":1},"frequency":"every_time","workflow":[`+sendStep("You left a company")+`]}`)
		w.apply(t, relate("ann", rel(1, "acme", "user_role", "member")), relate("bob", rel(1, "acme", "user_role", "member")))
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acme"}, Attributes: attrs("plan", "enterprise")})
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "globex"}, Attributes: attrs("plan", "enterprise")},
			relate("cat", rel(1, "globex", "user_role", "owner")))
		w.settle(t)
		// acme was created by the relationships (no plan then): only globex's creation counts;
		// cat is related to globex in the same write, so she is there to be told.
		if got, want := w.out.messages(t, w), []string{"cat:New enterprise company"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after the creations: %v, want %v", got, want)
		}
		w.apply(t, relate("ann", rel(1, "acme", "user_role", "admin")), relate("bob", rel(1, "acme", "user_role", "member", "seat", 2)))
		w.apply(t, &herald.PersonRelationships{Ref: person("bob"), Delete: true, Items: []herald.PersonRelationship{rel(1, "acme")}})
		w.settle(t)
		want := []string{"ann:You are an admin now", "bob:You left a company", "cat:New enterprise company"}
		if got := w.out.messages(t, w); !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
	})
}

func TestCampaignsNameExistingSegments(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		for name, def := range map[string]string{
			"segment step": `{"name":"x","trigger":{"type":"api"},"workflow":[{"segment":{"id":77,"action":"add"}}]}`,
			"branch":       `{"name":"x","trigger":{"type":"api"},"workflow":[{"branch":{"if":{"person":{"segment":{"id":77}}},"then":[{"exit":true}]}}]}`,
			"audience":     `{"name":"x","trigger":{"type":"object_created","type_id":1,"audience":{"people":{"segment":{"id":77}}}},"workflow":[{"exit":true}]}`,
			"goal":         `{"name":"x","trigger":{"type":"api"},"goal":{"segment_id":77},"workflow":[{"exit":true}]}`,
		} {
			_, err := w.s.SaveCampaign(context.Background(), w.ws, 0, []byte(def))
			if herald.ErrorCode(err) != herald.NotFound || !strings.Contains(err.Error(), "segment 77") {
				t.Errorf("%s: %v, want segment 77 refused as missing", name, err)
			}
		}
	})
}

// TestRelationshipUpdateNeverRecreates: a relationship_removed campaign's update of the
// relationship leaves it removed.
func TestRelationshipUpdateNeverRecreates(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		w.campaign(t, `{"name":"left","trigger":{"type":"relationship_removed","type_id":1},"frequency":"every_time",
			"workflow":[{"update":{"target":"relationship","attributes":{"left":true}}},`+sendStep("Bye")+`]}`)
		w.apply(t, relate("ann", rel(1, "acme", "user_role", "member")))
		w.apply(t, &herald.PersonRelationships{Ref: person("ann"), Delete: true, Items: []herald.PersonRelationship{rel(1, "acme")}})
		w.settle(t)
		p, _ := w.s.Person(context.Background(), w.ws, person("ann"))
		rels, _, _ := w.s.PersonObjects(context.Background(), p.PK, herald.Page{})
		if len(rels) != 0 {
			t.Errorf("relationships after the journey = %+v, want none", rels)
		}
		if got, want := w.out.messages(t, w), []string{"ann:Bye"}; !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v", got, want)
		}
	})
}
