package journey_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/email"
	"github.com/heraldhq/herald/internal/smtptest"
	"github.com/heraldhq/herald/liquid"
)

// TestConversionGoal sends through the real delivery service to a real SMTP server: a
// purchase within the goal's window marks the welcome email converted and ends the journey,
// so only the person who did not buy gets the reminder.
func TestConversionGoal(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		relay := realDelivery(t, w)

		c := w.campaign(t, `{"name":"welcome","trigger":{"type":"event","name":"signup"},"goal":{"event":"purchase","within":"3d"},"exit":"goal",
			"workflow":[{"id":"welcome","send":{"channel":"email","fields":{"to":"{{ customer.id }}@example.com","subject":"Welcome {{ customer.id }}","body":"<p>hi</p>"}}},
				{"delay":"1d"},
				{"id":"nudge","send":{"channel":"email","fields":{"to":"{{ customer.id }}@example.com","subject":"Still thinking, {{ customer.id }}?","body":"<p>10% off</p>"}}}]}`)
		for _, p := range []string{"ann", "bob"} {
			w.apply(t, &herald.TrackEvent{Event: herald.Event{Person: person(p), Name: "signup", Type: herald.EventCustom}})
		}
		w.settle(t)
		wait, stop := context.WithTimeout(context.Background(), 20*time.Second)
		defer stop()
		if n := relay.Wait(wait, 2); n != 2 {
			t.Fatalf("%d welcome emails arrived, want 2", n)
		}
		ann, _ := w.s.Person(context.Background(), w.ws, person("ann"))
		var welcome string
		for until := time.Now().Add(10 * time.Second); time.Now().Before(until); { // the sender records the outcome just after the relay has it
			if welcome, _, _ = w.s.LatestCampaignDelivery(context.Background(), w.ws, ann.PK, c.ID, 0); welcome != "" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if welcome == "" {
			t.Fatal("ann's welcome was never recorded as sent")
		}
		w.clock = w.clock.Add(2 * time.Hour)
		w.apply(t, &herald.TrackEvent{Event: herald.Event{Person: person("ann"), Name: "purchase", Type: herald.EventCustom}})
		w.after(t, 24*time.Hour)
		if n := relay.Wait(wait, 3); n != 3 {
			t.Fatalf("%d emails arrived, want the two welcomes and bob's nudge", n)
		}
		var subjects []string
		for _, m := range relay.Messages() {
			for _, line := range strings.Split(string(m.Data), "\r\n") {
				if s, ok := strings.CutPrefix(line, "Subject: "); ok {
					subjects = append(subjects, s)
				}
			}
		}
		if strings.Contains(strings.Join(subjects, "|"), "Still thinking, ann") || !strings.Contains(strings.Join(subjects, "|"), "Still thinking, bob") {
			t.Errorf("subjects = %v, want a nudge for bob only", subjects)
		}
		d, err := w.s.Delivery(context.Background(), w.ws, welcome)
		if err != nil || d.Status != herald.StatusConverted {
			t.Errorf("ann's welcome = %+v, %v; want it converted", d, err)
		}
		js, _ := w.s.PersonJourneys(context.Background(), ann.PK, c.ID)
		if len(js) != 1 || js[0].State != herald.JourneyExited || js[0].ExitReason != "reached the goal" {
			t.Errorf("ann's journey = %+v, want exited at the goal", js)
		}
	})
}

// realDelivery makes w's journeys send through the real delivery service to an in-process
// SMTP server, which it returns.
func realDelivery(t *testing.T, w *world) *smtptest.Server {
	t.Helper()
	relay := smtptest.Start(t)
	sender, err := email.New(email.Config{Host: relay.Host, Port: relay.Port, TLS: email.TLSNone, From: "Shop <shop@herald.test>"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	svc := delivery.New(w.s, liquid.New(liquid.Options{}), delivery.Channels{Email: sender}, delivery.Config{Now: func() time.Time { return w.clock }}, slog.New(slog.DiscardHandler))
	w.e.Sender = svc
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return relay
}

// TestStepsWriteInOrder: a message renders with the updates of the steps before it and
// without those of the steps after it, though a batch writes them together.
func TestStepsWriteInOrder(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, w *world) {
		relay := realDelivery(t, w)
		w.campaign(t, `{"name":"tiers","trigger":{"type":"event","name":"upgrade"},"workflow":[
			{"update":{"target":"person","attributes":{"plan":"silver"}}},
			{"send":{"channel":"email","fields":{"to":"{{ customer.id }}@example.com","subject":"Now {{ customer.plan }}","body":"<p>b</p>"}}},
			{"update":{"target":"person","attributes":{"plan":"gold"}}},
			{"send":{"channel":"email","fields":{"to":"{{ customer.id }}@example.com","subject":"Then {{ customer.plan }}","body":"<p>b</p>"}}}]}`)
		for _, p := range []string{"ann", "bob", "cat"} {
			w.apply(t, &herald.IdentifyPerson{Ref: person(p), Attributes: attrs("plan", "bronze")})
			w.apply(t, &herald.TrackEvent{Event: herald.Event{Person: person(p), Name: "upgrade", Type: herald.EventCustom}})
		}
		w.settle(t)
		wait, stop := context.WithTimeout(context.Background(), 20*time.Second)
		defer stop()
		if n := relay.Wait(wait, 6); n != 6 {
			t.Fatalf("%d emails, want 6", n)
		}
		now, then := 0, 0
		for _, m := range relay.Messages() {
			now += strings.Count(string(m.Data), "Subject: Now silver")
			then += strings.Count(string(m.Data), "Subject: Then gold")
		}
		if now != 3 || then != 3 {
			t.Errorf("%d 'Now silver' and %d 'Then gold' of 6 emails, want 3 and 3", now, then)
		}
	})
}
