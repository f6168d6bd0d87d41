package store_test

import (
	"context"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

// TestBatchEdgeCases covers batches whose ops depend on each other in ways the in-memory
// batch state must get right.
func TestBatchEdgeCases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("an email conflict between two people new in the same batch is refused, not a fault", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			errs := apply(t, s, b.ws,
				&herald.IdentifyPerson{Ref: id("a")},
				&herald.IdentifyPerson{Ref: id("b"), Attributes: attrs("email", "x@example.com")},
				&herald.IdentifyPerson{Ref: id("a"), Attributes: attrs("email", "x@example.com")})
			for i, err := range errs {
				if err != nil {
					t.Errorf("op %d: %v", i, err)
				}
			}
			a, _ := s.Person(ctx, b.ws, id("a"))
			if a == nil || a.Email != "" {
				t.Errorf("a = %+v, want no email", a)
			}
			cs := changesSince(t, s, 0)
			if got := cs[len(cs)-1].Type; got != herald.ActFailedAttrChange {
				t.Errorf("last change = %s", got)
			}
		})
	})

	t.Run("an email passed from one stored person to another in one batch", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("a"), Attributes: attrs("email", "old@example.com")}, &herald.IdentifyPerson{Ref: id("b")})
			mustApply(t, s, b.ws,
				&herald.IdentifyPerson{Ref: id("b"), Attributes: attrs("plan", "pro")},
				&herald.IdentifyPerson{Ref: id("a"), Attributes: attrs("email", "new@example.com")},
				&herald.IdentifyPerson{Ref: id("b"), Attributes: attrs("email", "old@example.com")})
			p, err := s.Person(ctx, b.ws, email("old@example.com"))
			if err != nil || p.ID != "b" {
				t.Errorf("old@example.com belongs to %+v (%v), want b", p, err)
			}
		})
	})

	t.Run("a repeated event id after a delete in the same batch is recorded once", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("z")})
			ev := herald.Event{Person: id("a"), Name: "paid", DedupeID: "E1"}
			mustApply(t, s, b.ws, &herald.TrackEvent{Event: ev}, &herald.DeletePerson{Ref: id("z")}, &herald.TrackEvent{Event: ev})
			n := 0
			for _, c := range changesSince(t, s, 0) {
				if c.Type == "event" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d event changes, want 1", n)
			}
		})
	})

	t.Run("unsuppress lifts every block the suppression made", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("a"), Attributes: attrs("email", "x@example.com")})
			mustApply(t, s, b.ws, &herald.SuppressPerson{Ref: id("a")})
			mustApply(t, s, b.ws, &herald.SuppressPerson{Ref: id("a"), Unsuppress: true})
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("a"), Attributes: attrs("email", "x@example.com")})
			if _, err := s.Person(ctx, b.ws, email("x@example.com")); err != nil {
				t.Errorf("after unsuppress: %v", err)
			}
		})
	})

	t.Run("alias of an identifier the person already has does nothing", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("42"), Attributes: attrs("email", "a@example.com")})
			mustApply(t, s, b.ws, &herald.AliasPerson{User: id("42"), Previous: "a@example.com"})
		})
	})

	t.Run("deleting relationships to an unknown type is a no-op", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.PersonRelationships{Ref: id("a"), Delete: true, Items: []herald.PersonRelationship{{Object: obj(99, "x")}}})
		})
	})
}
