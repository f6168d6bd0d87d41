package journey_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/journey"
)

func TestObjectDateTrigger(t *testing.T) {
	t.Parallel()
	// TeleWell: the patient is reminded 24 hours before the appointment starts; moving the
	// appointment moves the reminder.
	engines(t, func(t *testing.T, w *world) {
		w.e.DateScan = 0
		w.campaign(t, `{"name":"reminder","trigger":{"type":"date","on":"object","type_id":2,"attribute":"starts_at","offset":"-24h",
			"audience":{"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"patient"}}}},
			"workflow":[{"send":{"channel":"email","fields":{"subject":"Tomorrow","body":"{{ trigger.appointment.appointment_type }}"}}}]}`)
		at := func(d time.Duration) int64 { return start.Add(d).Unix() }
		w.apply(t,
			&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 2, ObjectID: "a1"}, Attributes: attrs("starts_at", at(25*time.Hour), "appointment_type", "checkup")},
			&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 2, ObjectID: "a2"}, Attributes: attrs("starts_at", at(30*time.Hour), "appointment_type", "dental")},
			relate("pat", rel(2, "a1", "user_role", "patient"), rel(2, "a2", "user_role", "patient")),
			relate("doc", rel(2, "a1", "user_role", "doctor")))
		w.settle(t)
		// a2 moves two days on before its reminder was due.
		w.apply(t, &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 2, ObjectID: "a2"}, Attributes: attrs("starts_at", at(78*time.Hour))})
		w.after(t, time.Hour-time.Second)
		if got := w.out.messages(t, w); len(got) != 0 {
			t.Fatalf("sent %v before any reminder was due", got)
		}
		w.after(t, 2*time.Second)
		if got, want := w.out.messages(t, w), []string{"pat:Tomorrow"}; !reflect.DeepEqual(got, want) || w.out.sent[0].TriggerObject.ObjectID != "a1" {
			t.Fatalf("after a1's reminder came due: %v (for %+v), want %v for a1", got, w.out.sent[0].TriggerObject, want)
		}
		w.after(t, 6*time.Hour) // a2's old reminder time passes: nothing, it moved
		if got := len(w.out.messages(t, w)); got != 1 {
			t.Fatalf("%d messages at a2's old reminder time, want 1", got)
		}
		w.after(t, 48*time.Hour)
		if got := w.out.messages(t, w); len(got) != 2 || w.out.sent[1].TriggerObject.ObjectID != "a2" {
			t.Errorf("after a2's new reminder time: %v, want a second reminder, for a2", got)
		}
	})
}

func TestOccurrences(t *testing.T) {
	t.Parallel()
	base := time.Date(1990, 3, 31, 15, 30, 0, 0, time.UTC).Unix()
	oslo, _ := time.LoadLocation("Europe/Oslo")
	day := int64(86400)
	cases := []struct {
		name     string
		trigger  herald.Trigger
		loc      *time.Location
		from, to time.Time
		want     []time.Time
	}{
		{"once with an offset", herald.Trigger{Recurrence: "once", Offset: -time.Hour, Hour: -1}, time.UTC,
			time.Unix(base-2*3600, 0), time.Unix(base, 0), []time.Time{time.Unix(base-3600, 0)}},
		{"once outside the window", herald.Trigger{Recurrence: "once", Hour: -1}, time.UTC, time.Unix(base, 0), time.Unix(base+day, 0), nil},
		{"yearly at nine in Oslo", herald.Trigger{Recurrence: "yearly", Hour: 9}, oslo,
			time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC), []time.Time{time.Date(2026, 3, 31, 9, 0, 0, 0, oslo)}},
		{"monthly clamps to the month's last day", herald.Trigger{Recurrence: "monthly", Hour: -1}, time.UTC,
			time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 2, 28, 15, 30, 0, 0, time.UTC), time.Date(2026, 3, 31, 15, 30, 0, 0, time.UTC)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var want []int64
			for _, w := range tc.want {
				want = append(want, w.Unix())
			}
			if got := journey.Occurrences(base, tc.trigger, tc.loc, tc.from.Unix(), tc.to.Unix()); !reflect.DeepEqual(got, want) {
				t.Errorf("occurrences = %v, want %v", got, want)
			}
		})
	}
}

// TestRestartedDateCampaignSkipsPassedDates: a date that came due while its campaign was
// stopped does not fire when the campaign starts again; later dates do.
func TestRestartedDateCampaignSkipsPassedDates(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		w.e.DateScan = 0
		c := w.campaign(t, `{"name":"renewal","trigger":{"type":"date","attribute":"renews_at"},"workflow":[`+sendStep("Renewal")+`]}`)
		w.apply(t, &herald.IdentifyPerson{Ref: person("ann"), Attributes: attrs("renews_at", start.Add(2*time.Hour).Unix())},
			&herald.IdentifyPerson{Ref: person("bob"), Attributes: attrs("renews_at", start.Add(30*time.Hour).Unix())})
		w.settle(t)
		if _, err := w.s.SetCampaignState(context.Background(), w.ws, c.ID, herald.CampaignStopped); err != nil {
			t.Fatal(err)
		}
		w.after(t, 3*time.Hour) // ann's date passes while the campaign is stopped
		if _, err := w.s.SetCampaignState(context.Background(), w.ws, c.ID, herald.CampaignRunning); err != nil {
			t.Fatal(err)
		}
		w.after(t, 28*time.Hour)
		if got, want := w.out.messages(t, w), []string{"bob:Renewal"}; !reflect.DeepEqual(got, want) {
			t.Errorf("sent %v, want %v (ann's date passed while stopped)", got, want)
		}
	})
}
