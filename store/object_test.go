package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

func TestObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("type ids count from 1 and slugs derive from names", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			a := mustType(t, s, b.ws, "Companies", "Company")
			c := mustType(t, s, b.ws, "Online Classes", "Online Class")
			if a.ID != 1 || c.ID != 2 {
				t.Errorf("ids = %d, %d", a.ID, c.ID)
			}
			if c.Slug != "online_classes" || c.SingularSlug != "online_class" {
				t.Errorf("slugs = %q, %q", c.Slug, c.SingularSlug)
			}
			if _, err := s.CreateObjectType(ctx, b.ws, herald.ObjectType{Name: "companies", SingularName: "Firm"}); herald.ErrorCode(err) != herald.Conflict {
				t.Errorf("duplicate slug: err = %v", err)
			}
			got, _ := s.ObjectTypes(ctx, b.ws)
			if len(got) != 2 {
				t.Errorf("types = %v", got)
			}
		})
	})

	t.Run("identify with relationships creates people and records both sides", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Companies", "Company")
			mustApply(t, s, b.ws, &herald.IdentifyObject{Ref: obj(1, "acme"), Attributes: attrs("name", "Acme", "seats", 50),
				People: []herald.ObjectRelationship{{Person: id("42"), Attributes: attrs("user_role", "admin")}}})
			got := types(changesSince(t, s, 0))
			want := []string{"_o:1:create", herald.ActProfileCreate, herald.ActAddRelationship}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("changes = %v, want %v", got, want)
			}
			o, err := s.Object(ctx, b.ws, obj(1, "acme"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(o.CioObjectID, "ob") || o.Attributes.StringMap()["seats"] != "50" {
				t.Errorf("object = %+v", o)
			}
			rels, next, err := s.ObjectPeople(ctx, o.PK, herald.Page{})
			if err != nil || next != 0 || len(rels) != 1 {
				t.Fatalf("rels = %v next %d err %v", rels, next, err)
			}
			if rels[0].Person.ID != "42" || rels[0].Attributes.StringMap()["user_role"] != "admin" {
				t.Errorf("relationship = %+v", rels[0])
			}
			seq := lastSeq(t, s)
			mustApply(t, s, b.ws, &herald.IdentifyObject{Ref: obj(1, "acme"), Attributes: attrs("name", "Acme"),
				People: []herald.ObjectRelationship{{Person: id("42"), Attributes: attrs("user_role", "admin")}}})
			if cs := changesSince(t, s, seq); len(cs) != 0 {
				t.Errorf("identical re-identify recorded %v", types(cs))
			}
			mustApply(t, s, b.ws, &herald.PersonRelationships{Ref: id("42"), Items: []herald.PersonRelationship{{Object: herald.ObjectRef{CioObjectID: o.CioObjectID}, Attributes: attrs("user_role", "contributor")}}})
			if got := types(changesSince(t, s, seq)); !reflect.DeepEqual(got, []string{"_r:1:attribute_change"}) {
				t.Errorf("changes = %v", got)
			}
		})
	})

	t.Run("unknown type fails that op only and names it", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Accounts", "Account")
			errs := apply(t, s, b.ws,
				&herald.IdentifyObject{Ref: obj(1, "a1")},
				&herald.IdentifyObject{Ref: obj(9, "x")},
				&herald.IdentifyPerson{Ref: id("p"), Relationships: []herald.PersonRelationship{{Object: obj(7, "y")}}},
				&herald.IdentifyObject{Ref: obj(1, "a2")})
			if errs[0] != nil || errs[3] != nil {
				t.Errorf("valid ops failed: %v", errs)
			}
			for _, i := range []int{1, 2} {
				if e := herald.AsError(errs[i]); e.Code != herald.NotFound || !strings.Contains(e.Message, "object type") {
					t.Errorf("op %d: err = %v", i, errs[i])
				}
			}
			if _, err := s.Person(ctx, b.ws, id("p")); herald.ErrorCode(err) != herald.NotFound {
				t.Errorf("failed op created its person: %v", err)
			}
			if _, err := s.Object(ctx, b.ws, obj(1, "a2")); err != nil {
				t.Errorf("op after the failures: %v", err)
			}
		})
	})

	t.Run("cio_object_id updates but never creates", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Accounts", "Account")
			err := apply(t, s, b.ws, &herald.IdentifyObject{Ref: herald.ObjectRef{CioObjectID: "obnope"}, Attributes: attrs("a", 1)})[0]
			if herald.ErrorCode(err) != herald.NotFound {
				t.Errorf("err = %v", err)
			}
		})
	})

	t.Run("an op that fails after writing leaves nothing behind", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Accounts", "Account")
			full := herald.Attributes{}
			for i := 0; i < herald.MaxAttributes; i++ {
				full["r"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strconv.Itoa(i)] = attrs("v", 1)["v"]
			}
			mustApply(t, s, b.ws, &herald.IdentifyObject{Ref: obj(1, "a"), People: []herald.ObjectRelationship{{Person: id("1"), Attributes: full}}})
			seq := lastSeq(t, s)
			errs := apply(t, s, b.ws,
				&herald.IdentifyPerson{Ref: id("2")},
				&herald.IdentifyObject{Ref: obj(1, "a"), Attributes: attrs("name", "changed"),
					People: []herald.ObjectRelationship{{Person: id("1"), Attributes: attrs("one_more", 1)}}})
			if herald.ErrorCode(errs[1]) != herald.TooMany || errs[0] != nil {
				t.Fatalf("errs = %v", errs)
			}
			o, _ := s.Object(ctx, b.ws, obj(1, "a"))
			if _, ok := o.Attributes["name"]; ok {
				t.Errorf("failed op's object update survived")
			}
			if got := types(changesSince(t, s, seq)); !reflect.DeepEqual(got, []string{herald.ActProfileCreate}) {
				t.Errorf("changes = %v", got)
			}
		})
	})

	t.Run("deleting an object deletes its relationships and records each", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Events", "Event")
			mustApply(t, s, b.ws, &herald.IdentifyObject{Ref: obj(1, "madison"), People: []herald.ObjectRelationship{{Person: id("1")}, {Person: email("b@example.com")}}})
			p, _ := s.Person(ctx, b.ws, id("1"))
			seq := lastSeq(t, s)
			mustApply(t, s, b.ws, &herald.DeleteObject{Ref: obj(1, "madison")})
			if got := types(changesSince(t, s, seq)); !reflect.DeepEqual(got, []string{"delete_relationship", "delete_relationship", "_o:1:delete"}) {
				t.Errorf("changes = %v", got)
			}
			if rels, _, _ := s.PersonObjects(ctx, p.PK, herald.Page{}); len(rels) != 0 {
				t.Errorf("relationships left: %v", rels)
			}
		})
	})

	t.Run("deleting a person deletes their relationships", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Courses", "Course")
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("1"), Relationships: []herald.PersonRelationship{{Object: obj(1, "py101"), Attributes: attrs("enrollment_status", "enrolled")}}})
			o, _ := s.Object(ctx, b.ws, obj(1, "py101"))
			mustApply(t, s, b.ws, &herald.DeletePerson{Ref: id("1")})
			if rels, _, _ := s.ObjectPeople(ctx, o.PK, herald.Page{}); len(rels) != 0 {
				t.Errorf("relationships left: %v", rels)
			}
			mustApply(t, s, b.ws, &herald.PersonRelationships{Ref: id("9"), Delete: true, Items: []herald.PersonRelationship{{Object: obj(1, "py101")}}})
		})
	})

	t.Run("find objects pages through a filter", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Accounts", "Account")
			var ops []herald.Op
			for i := 0; i < 30; i++ {
				ops = append(ops, &herald.IdentifyObject{Ref: obj(1, "a"+strconv.Itoa(i)), Attributes: attrs("n", i)})
			}
			mustApply(t, s, b.ws, ops...)
			even := func(o *herald.Object) bool { n := o.Attributes.StringMap()["n"]; return (n[len(n)-1]-'0')%2 == 0 }
			var all []string
			page := herald.Page{Limit: 4}
			for {
				objs, next, err := s.FindObjects(ctx, b.ws, 1, even, page)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					all = append(all, o.ObjectID)
				}
				if next == 0 {
					break
				}
				page.After = next
			}
			if len(all) != 15 {
				t.Errorf("found %d: %v", len(all), all)
			}
		})
	})

	t.Run("a value with HTML characters written twice changes nothing the second time", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustType(t, s, b.ws, "Accounts", "Account")
			op := func() herald.Op {
				return &herald.IdentifyObject{Ref: obj(1, "html"), Attributes: herald.Attributes{"note": json.RawMessage(`"a<b & c>d"`)}}
			}
			mustApply(t, s, b.ws, op())
			after := lastSeq(t, s)
			mustApply(t, s, b.ws, op())
			if cs := changesSince(t, s, after); len(cs) != 0 {
				t.Errorf("the same write again recorded %v", types(cs))
			}
			o, err := s.Object(ctx, b.ws, obj(1, "html"))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(o.Attributes["note"]); got != `"a<b & c>d"` {
				t.Errorf("note reads back as %s", got)
			}
		})
	})
}
