package delivery_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestTriggerPersonIsThePersonWhoseRelationshipFired: when a patient's booking tells the
// doctor, trigger.customer and trigger.relationship are the patient's, customer and
// customer._relationship the doctor's.
func TestTriggerPersonIsThePersonWhoseRelationshipFired(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		svc, b := setup(t, dsn)
		ctx := context.Background()
		if _, err := b.store.CreateObjectType(ctx, b.ws.ID, herald.ObjectType{Name: "Appointments"}); err != nil {
			t.Fatal(err)
		}
		apt := herald.ObjectRef{TypeID: 1, ObjectID: "apt-1"}
		b.apply(t, &herald.IdentifyObject{Ref: apt, Attributes: herald.Attributes{"appointment_type": json.RawMessage(`"checkup"`)},
			People: []herald.ObjectRelationship{
				{Person: ref("dr-who"), Attributes: herald.Attributes{"user_role": json.RawMessage(`"doctor"`)}},
				{Person: ref("pat"), Attributes: herald.Attributes{"user_role": json.RawMessage(`"patient"`), "reason": json.RawMessage(`"cough"`)}}}})
		out, err := svc.Preview(ctx, herald.SendRequest{WorkspaceID: b.ws.ID, Person: ref("dr-who"), Channel: herald.ChannelEmail,
			TriggerObject: &apt, TriggerPerson: &herald.PersonRef{Kind: herald.ByID, Value: "pat"},
			Fields: map[string]string{"to": "dr@example.com", "subject": "{{ trigger.customer.id }} booked a {{ trigger.appointment.appointment_type }}",
				"body": "<p>{{ trigger.relationship.reason }}; you are the {{ customer._relationship.user_role }}, {{ customer.id }}</p>"}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(out)
		for _, want := range []string{"pat booked a checkup", "cough; you are the doctor, dr-who"} {
			if !strings.Contains(string(got), want) {
				t.Errorf("preview %s lacks %q", got, want)
			}
		}
	})
}
