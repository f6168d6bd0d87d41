package store_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

func TestEventsDevicesMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("events dedupe by id and create their person", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			ev := herald.Event{Person: id("5"), Name: " purchase ", DedupeID: "01HX", Data: []byte(`{"amount":10}`)}
			mustApply(t, s, b.ws, &herald.TrackEvent{Event: ev}, &herald.TrackEvent{Event: ev})
			got := changesSince(t, s, 0)
			if !reflect.DeepEqual(types(got), []string{herald.ActProfileCreate, "event"}) {
				t.Fatalf("changes = %v", types(got))
			}
			if got[1].Name != "purchase" || string(got[1].Data) != `{"amount":10}` && string(got[1].Data) != `{"amount": 10}` {
				t.Errorf("event change = %+v", got[1])
			}
		})
	})

	t.Run("anonymous events and relationships move to the person who claims the anonymous id", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Listings", "Listing")
			mustApply(t, s, b.ws,
				&herald.TrackEvent{Event: herald.Event{AnonymousID: "anon-1", Name: "viewed", Type: herald.EventPage}},
				&herald.IdentifyObject{Ref: obj(1, "flat-9"), Anonymous: true, People: []herald.ObjectRelationship{{Person: herald.PersonRef{Kind: herald.ByAnonymousID, Value: "anon-1"}, Attributes: attrs("viewed", true)}}})
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("u1"), Attributes: attrs("anonymous_id", "anon-1")})
			p, _ := s.Person(ctx, b.ws, id("u1"))
			rels, _, _ := s.PersonObjects(ctx, p.PK, herald.Page{})
			if len(rels) != 1 || rels[0].Object.ObjectID != "flat-9" || rels[0].Attributes.StringMap()["viewed"] != "true" {
				t.Errorf("relationships = %+v", rels)
			}
			acts, _, _ := s.Activities(ctx, b.ws, herald.ActivityFilter{PersonPK: p.PK}, herald.Page{})
			if !contains(types(acts), herald.ActAnonymousEventMerged) {
				t.Errorf("activities = %v", types(acts))
			}
		})
	})

	t.Run("devices are added and removed", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.AddDevice{Ref: id("1"), Device: herald.Device{Token: "tok", Platform: "ios", LastUsed: 5}})
			p, _ := s.Person(ctx, b.ws, id("1"))
			ds, _ := s.Devices(ctx, p.PK)
			if len(ds) != 1 || ds[0].Platform != "ios" {
				t.Errorf("devices = %+v", ds)
			}
			mustApply(t, s, b.ws, &herald.DeleteDevice{Ref: id("1"), Token: "tok"})
			if ds, _ := s.Devices(ctx, p.PK); len(ds) != 0 {
				t.Errorf("devices = %+v", ds)
			}
			err := apply(t, s, b.ws, &herald.AddDevice{Ref: id("1"), Device: herald.Device{Token: "t", Platform: "windows"}})[0]
			if e := herald.AsError(err); e.Field != "device.platform" {
				t.Errorf("err = %v", err)
			}
		})
	})

	t.Run("merge moves attributes, relationships and events to the primary", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Accounts", "Account")
			mustApply(t, s, b.ws,
				&herald.IdentifyPerson{Ref: id("p"), Attributes: attrs("plan", "pro")},
				&herald.IdentifyPerson{Ref: email("s@example.com"), Attributes: attrs("plan", "free", "city", "Oslo"),
					Relationships: []herald.PersonRelationship{{Object: obj(1, "acc")}}},
				&herald.TrackEvent{Event: herald.Event{Person: email("s@example.com"), Name: "login"}})
			mustApply(t, s, b.ws, &herald.MergePeople{Primary: id("p"), Secondary: email("s@example.com")})
			p, err := s.Person(ctx, b.ws, email("s@example.com"))
			if err != nil || p.ID != "p" {
				t.Fatalf("merged person = %+v, %v", p, err)
			}
			if m := p.Attributes.StringMap(); m["plan"] != "pro" || m["city"] != "Oslo" {
				t.Errorf("attributes = %v", m)
			}
			if rels, _, _ := s.PersonObjects(ctx, p.PK, herald.Page{}); len(rels) != 1 {
				t.Errorf("relationships = %v", rels)
			}
			err = apply(t, s, b.ws, &herald.MergePeople{Primary: id("nobody"), Secondary: id("p")})[0]
			if e := herald.AsError(err); e.Code != herald.NotFound || e.Field != "primary" {
				t.Errorf("err = %v", err)
			}
		})
	})

	t.Run("suppression deletes and blocks until unsuppressed", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("x"), Attributes: attrs("email", "x@example.com")})
			mustApply(t, s, b.ws, &herald.SuppressPerson{Ref: id("x")})
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: email("X@example.com")})
			if _, err := s.Person(ctx, b.ws, email("x@example.com")); herald.ErrorCode(err) != herald.NotFound {
				t.Errorf("suppressed email was recreated: %v", err)
			}
			mustApply(t, s, b.ws, &herald.SuppressPerson{Ref: email("x@example.com"), Unsuppress: true})
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: email("x@example.com")})
			if _, err := s.Person(ctx, b.ws, email("x@example.com")); err != nil {
				t.Errorf("unsuppressed email: %v", err)
			}
		})
	})
}

func TestChangeFeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("changes are read in order after a cursor", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			for i := 0; i < 5; i++ {
				mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id(strconv.Itoa(i))})
			}
			all := changesSince(t, s, 0)
			if len(all) != 5 {
				t.Fatalf("%d changes", len(all))
			}
			rest := changesSince(t, s, all[1].Seq)
			if len(rest) != 3 || rest[0].Customer.ID != "2" {
				t.Errorf("after cursor: %+v", rest)
			}
			for i := 1; i < len(all); i++ {
				if all[i].Seq <= all[i-1].Seq {
					t.Errorf("seq not increasing: %d then %d", all[i-1].Seq, all[i].Seq)
				}
			}
		})
	})

	t.Run("the after-write hook runs in the transaction and its failure rolls the write back", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			var seen []herald.Change
			s.AfterWrite = func(ctx context.Context, tx *sql.Tx, cs []herald.Change) error {
				seen = append(seen, cs...)
				if cs[0].Customer != nil && cs[0].Customer.ID == "fail" {
					return errors.New("queue unavailable")
				}
				return nil
			}
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("ok")})
			if len(seen) != 1 || seen[0].Seq == 0 {
				t.Fatalf("hook saw %+v", seen)
			}
			if _, err := s.Apply(ctx, b.ws, []herald.Op{&herald.IdentifyPerson{Ref: id("fail")}}); err == nil {
				t.Fatal("hook failure did not fail the write")
			}
			if _, err := s.Person(ctx, b.ws, id("fail")); herald.ErrorCode(err) != herald.NotFound {
				t.Errorf("write survived its hook's failure: %v", err)
			}
		})
	})

	t.Run("activities list newest first with filters and pages", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			for i := 0; i < 3; i++ {
				mustApply(t, s, b.ws, &herald.TrackEvent{Event: herald.Event{Person: id("1"), Name: "e" + strconv.Itoa(i)}})
			}
			acts, next, err := s.Activities(ctx, b.ws, herald.ActivityFilter{Type: "event"}, herald.Page{Limit: 2})
			if err != nil || len(acts) != 2 || acts[0].Name != "e2" || next == 0 {
				t.Fatalf("page 1 = %v next %d err %v", acts, next, err)
			}
			acts, next, _ = s.Activities(ctx, b.ws, herald.ActivityFilter{Type: "event"}, herald.Page{Limit: 2, After: next})
			if len(acts) != 1 || acts[0].Name != "e0" || next != 0 {
				t.Errorf("page 2 = %v next %d", acts, next)
			}
		})
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
