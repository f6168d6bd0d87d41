package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

func TestDeliveryLifecycle(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
		ctx := context.Background()
		mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("ann")})
		p, _ := s.Person(ctx, b.ws, id("ann"))
		queue := func(d *herald.Delivery) {
			t.Helper()
			d.Customer = herald.Identifiers{CioID: p.CioID}
			mustApply(t, s, b.ws, &herald.QueueDelivery{Delivery: d})
		}
		now := func() int64 { return b.clock.Unix() }
		queue(&herald.Delivery{ID: "due", Channel: herald.ChannelEmail, Content: []byte(`{"Subject":"s"}`), Retain: true})
		queue(&herald.Delivery{ID: "later", Channel: herald.ChannelEmail, NextAttemptAt: now() + 60})
		queue(&herald.Delivery{ID: "failed", Channel: herald.ChannelEmail, Status: herald.StatusFailed, Reason: "customer.nickname is missing"})

		t.Run("a claim leases only due deliveries, once", func(t *testing.T) {
			got, err := s.ClaimDeliveries(ctx, now(), now()+300, 10)
			if err != nil || len(got) != 1 || got[0].ID != "due" || got[0].Attempts != 1 || string(got[0].Content) != `{"Subject":"s"}` {
				t.Fatalf("claim = %+v, %v; want due, attempt 1, with its content", got, err)
			}
			if again, _ := s.ClaimDeliveries(ctx, now(), now()+300, 10); len(again) != 0 {
				t.Errorf("a leased delivery was claimed again: %+v", again)
			}
			if late, _ := s.ClaimDeliveries(ctx, now()+301, now()+600, 10); len(late) != 2 {
				t.Errorf("after the lease and the due time, %d claimed, want due and later", len(late))
			}
		})
		t.Run("an attempted delivery is due again at its retry time", func(t *testing.T) {
			mustApply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "later", Metric: herald.StatusAttempted, Reason: "421 try later", RetryAt: now() + 1000, Attempt: 1})
			if got, _ := s.ClaimDeliveries(ctx, now()+999, now()+2000, 10); slices.ContainsFunc(got, func(d *herald.Delivery) bool { return d.ID == "later" }) {
				t.Error("claimed before its retry time")
			}
			got, _ := s.ClaimDeliveries(ctx, now()+1000, now()+2000, 10)
			if len(got) != 1 || got[0].ID != "later" || got[0].Attempts != 2 {
				t.Errorf("claim at the retry time = %+v, want later at its second attempt", got)
			}
			mustApply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "later", Metric: herald.StatusSent, Attempt: 2})
		})
		t.Run("a sent delivery ignores a repeated outcome and keeps later metrics", func(t *testing.T) {
			mustApply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "due", Metric: herald.StatusSent, Attempt: 2})
			mustApply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "due", Metric: herald.StatusClicked, Href: "https://x"})
			mustApply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "due", Metric: herald.StatusOpened})
			mustApply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "due", Metric: herald.StatusFailed, Attempt: 2, Reason: "late report"})
			d, _ := s.Delivery(ctx, b.ws, "due")
			if d.Status != herald.StatusClicked || d.Reason != "" {
				t.Errorf("status %q (%q), want clicked: an open after a click does not go back, a late failure is ignored", d.Status, d.Reason)
			}
			h, _ := s.DeliveryHistory(ctx, "due")
			var got []string
			for _, e := range h {
				got = append(got, e.Metric)
			}
			if want := []string{"queued", "sent", "clicked", "opened"}; !slices.Equal(got, want) {
				t.Errorf("history %v, want %v", got, want)
			}
		})
		t.Run("a final delivery is logged and never claimed", func(t *testing.T) {
			d, _ := s.Delivery(ctx, b.ws, "failed")
			if d.Status != herald.StatusFailed || d.Reason != "customer.nickname is missing" {
				t.Errorf("failed delivery = %+v", d)
			}
			acts, _, _ := s.Activities(ctx, b.ws, herald.ActivityFilter{PersonPK: p.PK}, herald.Page{})
			var types []string
			for _, c := range acts {
				types = append(types, c.Type)
			}
			for _, want := range []string{"failed_email", "sent_email", "clicked_email", "opened_email"} {
				if !slices.Contains(types, want) {
					t.Errorf("activity %v lacks %s", types, want)
				}
			}
		})
		t.Run("unknown deliveries and duplicate ids are refused by field", func(t *testing.T) {
			errs := apply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "nope", Metric: herald.StatusOpened},
				&herald.QueueDelivery{Delivery: &herald.Delivery{ID: "due", Customer: herald.Identifiers{CioID: p.CioID}, Channel: herald.ChannelEmail}})
			if e := herald.AsError(errs[0]); e.Code != herald.NotFound || e.Field != "delivery_id" {
				t.Errorf("unknown delivery: %v", errs[0])
			}
			if e := herald.AsError(errs[1]); e.Code != herald.Conflict || e.Field != "delivery_id" {
				t.Errorf("duplicate id: %v", errs[1])
			}
		})
		t.Run("person deliveries list newest first and page", func(t *testing.T) {
			b.tick(time.Second)
			queue(&herald.Delivery{ID: "newest", Channel: herald.ChannelSMS})
			queue(&herald.Delivery{ID: "newest2", Channel: herald.ChannelSMS}) // the same second
			var got []string
			var after int64
			for {
				page, next, err := s.PersonDeliveries(ctx, b.ws, p.PK, herald.Page{After: after, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range page {
					got = append(got, d.ID)
				}
				if next == 0 {
					break
				}
				after = next
			}
			if want := []string{"newest2", "newest", "failed", "later", "due"}; !slices.Equal(got, want) {
				t.Errorf("pages %v, want %v", got, want)
			}
		})
		t.Run("pruning forgets content of finished deliveries only", func(t *testing.T) {
			n, err := s.PruneDeliveryContent(ctx, now()+10)
			if err != nil || n != 1 {
				t.Errorf("pruned %d (%v), want the sent one", n, err)
			}
		})
		t.Run("a released delivery is due again at once, its attempt uncounted", func(t *testing.T) {
			queue(&herald.Delivery{ID: "released", Channel: herald.ChannelEmail})
			got, _ := s.ClaimDeliveries(ctx, now()+5000, now()+6000, 10)
			var ids []string
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			if !slices.Contains(ids, "released") {
				t.Fatalf("claimed %v, want released among them", ids)
			}
			if err := s.ReleaseDeliveries(ctx, ids); err != nil {
				t.Fatal(err)
			}
			again, _ := s.ClaimDeliveries(ctx, now()+5000, now()+6000, 10)
			i := slices.IndexFunc(again, func(d *herald.Delivery) bool { return d.ID == "released" })
			if len(again) != len(ids) || i < 0 || again[i].Attempts != 1 {
				t.Errorf("after release %d claimed, want %d with released at attempt 1", len(again), len(ids))
			}
			mustApply(t, s, b.ws, &herald.DeliveryMetric{DeliveryID: "released", Metric: herald.StatusSent, Attempt: 1})
		})
	})
}
