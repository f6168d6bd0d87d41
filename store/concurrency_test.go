package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("concurrent writers creating the same people end with one of each", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Accounts", "Account")
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					for round := 0; round < 4; round++ {
						var ops []herald.Op
						for i := 0; i < 10; i++ {
							ops = append(ops,
								&herald.IdentifyPerson{Ref: id(fmt.Sprint("shared-", i)), Attributes: attrs(fmt.Sprint("g", g), round)},
								&herald.IdentifyObject{Ref: obj(1, fmt.Sprint("acc-", i)), People: []herald.ObjectRelationship{{Person: id(fmt.Sprint("shared-", i))}}},
								&herald.TrackEvent{Event: herald.Event{Person: id(fmt.Sprint("own-", g)), Name: "tick"}})
						}
						res, err := s.Apply(ctx, b.ws, ops)
						if err != nil {
							errs <- err
							return
						}
						for _, e := range res {
							if e != nil {
								errs <- e
								return
							}
						}
					}
				}(g)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			creates, rels := 0, 0
			for _, c := range changesSince(t, s, 0) {
				switch c.Type {
				case herald.ActProfileCreate:
					creates++
				case herald.ActAddRelationship:
					rels++
				}
			}
			if creates != 18 || rels != 10 {
				t.Errorf("profile_create = %d (want 18), add_relationship = %d (want 10)", creates, rels)
			}
			p, err := s.Person(ctx, b.ws, id("shared-3"))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(p.Attributes); n != 9 { // id plus g0..g7
				t.Errorf("shared-3 has %d attributes: %v", n, p.Attributes.StringMap())
			}
		})
	})

	t.Run("ops in one batch see each other's writes", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Courses", "Course")
			mustApply(t, s, b.ws,
				&herald.IdentifyPerson{Ref: email("new@example.com"), Attributes: attrs("first", "Ada")},
				&herald.IdentifyPerson{Ref: id("u9"), Attributes: attrs("email", "NEW@example.com")},
				&herald.PersonRelationships{Ref: id("u9"), Items: []herald.PersonRelationship{{Object: obj(1, "py101"), Attributes: attrs("enrollment_status", "invited")}}},
				&herald.IdentifyObject{Ref: obj(1, "py101"), Attributes: attrs("name", "Python 101"),
					People: []herald.ObjectRelationship{{Person: email("new@example.com"), Attributes: attrs("enrollment_status", "enrolled")}}},
				&herald.TrackEvent{Event: herald.Event{Person: id("u9"), Name: "enrolled", DedupeID: "e1"}},
				&herald.TrackEvent{Event: herald.Event{Person: email("new@example.com"), Name: "enrolled", DedupeID: "e1"}})
			p, err := s.Person(ctx, b.ws, id("u9"))
			if err != nil || p.Email != "NEW@example.com" || p.Attributes.StringMap()["first"] != "Ada" {
				t.Fatalf("person = %+v, %v", p, err)
			}
			rels, _, _ := s.PersonObjects(ctx, p.PK, herald.Page{})
			if len(rels) != 1 || rels[0].Attributes.StringMap()["enrollment_status"] != "enrolled" {
				t.Errorf("relationships = %+v", rels)
			}
			got := types(changesSince(t, s, 0))
			want := []string{"profile_create", "attribute_change", "_o:1:create", "add_relationship",
				"_o:1:attribute_change", "_r:1:attribute_change", "event"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("changes = %v\nwant      %v", got, want)
			}
		})
	})
}
