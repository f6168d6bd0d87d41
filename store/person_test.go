package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
)

func TestIdentifyPerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("creates then updates with a from-to diff", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("42"), Attributes: attrs("email", "Ann@Example.com", "plan", "free")})
			seq := lastSeq(t, s)
			b.tick(time.Second)
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("42"), Attributes: attrs("plan", "pro", "seats", 3)})
			p, err := s.Person(ctx, b.ws, email("ann@EXAMPLE.com"))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.ID, "42"; got != want {
				t.Errorf("id = %q, want %q", got, want)
			}
			if got, want := p.Attributes.StringMap(), map[string]string{"id": "42", "email": "Ann@Example.com", "plan": "pro", "seats": "3"}; !reflect.DeepEqual(got, want) {
				t.Errorf("attributes = %v, want %v", got, want)
			}
			cs := changesSince(t, s, seq)
			if len(cs) != 1 || cs[0].Type != herald.ActAttributeChange {
				t.Fatalf("changes = %v, want one attribute_change", types(cs))
			}
			var diff map[string]herald.Diff
			json.Unmarshal(cs[0].Data, &diff)
			if got := string(diff["plan"].From) + ">" + string(diff["plan"].To); got != `"free">"pro"` {
				t.Errorf("plan diff = %s", got)
			}
			if string(diff["seats"].From) != "null" || string(diff["seats"].To) != "3" {
				t.Errorf("seats diff = %+v", diff["seats"])
			}
			if cs[0].Customer == nil || cs[0].Customer.ID != "42" || cs[0].Customer.CioID != p.CioID {
				t.Errorf("change customer = %+v", cs[0].Customer)
			}
		})
	})

	t.Run("null and empty string remove attributes; an unchanged write records nothing", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("a", 1, "b", "x", "c", true)})
			seq := lastSeq(t, s)
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("1"), Attributes: herald.Attributes{"a": json.RawMessage("null"), "b": json.RawMessage(`""`), "c": json.RawMessage("true")}})
			p, _ := s.Person(ctx, b.ws, id("1"))
			if got, want := p.Attributes.StringMap(), map[string]string{"id": "1", "c": "true"}; !reflect.DeepEqual(got, want) {
				t.Errorf("attributes = %v, want %v", got, want)
			}
			seq2 := lastSeq(t, s)
			if seq2 == seq {
				t.Fatal("removal recorded no change")
			}
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("c", true)})
			if got := changesSince(t, s, seq2); len(got) != 0 {
				t.Errorf("unchanged write recorded %v", types(got))
			}
		})
	})

	t.Run("path identifier unknown but body email known assigns the id", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: email("bo@example.com")})
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("7"), Attributes: attrs("email", "BO@example.com")})
			p, err := s.Person(ctx, b.ws, id("7"))
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != "BO@example.com" {
				t.Errorf("email = %q", p.Email)
			}
			if _, err := s.Person(ctx, b.ws, email("bo@example.com")); err != nil {
				t.Errorf("lookup by old-cased email: %v", err)
			}
		})
	})

	t.Run("identifiers of different people log a failed attribute change and change nothing", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws,
				&herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("email", "one@example.com")},
				&herald.IdentifyPerson{Ref: id("2"), Attributes: attrs("email", "two@example.com")})
			seq := lastSeq(t, s)
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("email", "two@example.com", "x", 1)})
			cs := changesSince(t, s, seq)
			if got := types(cs); !reflect.DeepEqual(got, []string{herald.ActFailedAttrChange}) {
				t.Fatalf("changes = %v", got)
			}
			if !strings.Contains(string(cs[0].Data), "already belongs to another person") {
				t.Errorf("reason = %s", cs[0].Data)
			}
			p, _ := s.Person(ctx, b.ws, id("1"))
			if _, ok := p.Attributes["x"]; ok || p.Email != "one@example.com" {
				t.Errorf("person changed: %+v", p)
			}
		})
	})

	t.Run("cio_id addressing changes the id; unknown cio_id is dropped", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("old")})
			p, _ := s.Person(ctx, b.ws, id("old"))
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: herald.PathRef("cio_" + p.CioID), Attributes: attrs("id", "new")})
			if _, err := s.Person(ctx, b.ws, id("new")); err != nil {
				t.Errorf("new id: %v", err)
			}
			if _, err := s.Person(ctx, b.ws, id("old")); herald.ErrorCode(err) != herald.NotFound {
				t.Errorf("old id still resolves: %v", err)
			}
			seq := lastSeq(t, s)
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: herald.PathRef("cio_nobody"), Attributes: attrs("a", 1)})
			if cs := changesSince(t, s, seq); len(cs) != 0 {
				t.Errorf("unknown cio_id recorded %v", types(cs))
			}
		})
	})

	t.Run("changing an id by id is refused", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: email("c@example.com"), Attributes: attrs("id", "1")})
			seq := lastSeq(t, s)
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: email("c@example.com"), Attributes: attrs("id", "2")})
			if got := types(changesSince(t, s, seq)); !reflect.DeepEqual(got, []string{herald.ActFailedAttrChange}) {
				t.Errorf("changes = %v", got)
			}
		})
	})

	t.Run("_update never creates", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("ghost"), Attributes: attrs("_update", true, "a", 1)})
			if _, err := s.Person(ctx, b.ws, id("ghost")); herald.ErrorCode(err) != herald.NotFound {
				t.Errorf("person created: %v", err)
			}
		})
	})

	t.Run("an older _timestamp does not overwrite a newer value", func(t *testing.T) {
		engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("plan", "pro", "_timestamp", 2000)})
			mustApply(t, s, b.ws, &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("plan", "free", "other", 1, "_timestamp", 1000)})
			p, _ := s.Person(ctx, b.ws, id("1"))
			if got := p.Attributes.StringMap(); got["plan"] != "pro" || got["other"] != "1" {
				t.Errorf("attributes = %v", got)
			}
		})
	})

	t.Run("bad input is refused with the field named", func(t *testing.T) {
		long := strings.Repeat("x", 151)
		many := herald.Attributes{}
		for i := 0; i < 301; i++ {
			many["a"+strings.Repeat("b", i%10)+string(rune('a'+i%26))+strconv.Itoa(i)] = json.RawMessage("1")
		}
		tests := []struct {
			name      string
			op        func() herald.Op // a fresh op per engine: Validate normalises it
			wantField string
			wantCode  herald.Code
		}{
			{"id over 150 bytes", func() herald.Op { return &herald.IdentifyPerson{Ref: id(long)} }, "identifiers.id", herald.TooLong},
			{"attribute name over 150 bytes", func() herald.Op { return &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs(long, 1)} }, "attributes." + long, herald.TooLong},
			{"value over 1000 bytes", func() herald.Op {
				return &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("v", strings.Repeat("y", 1001))}
			}, "attributes.v", herald.TooLong},
			{"301 attributes", func() herald.Op { return &herald.IdentifyPerson{Ref: id("1"), Attributes: many} }, "attributes", herald.TooMany},
			{"reserved _relationship", func() herald.Op { return &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("_relationship", 1)} }, "attributes._relationship", herald.Reserved},
			{"no identifier", func() herald.Op { return &herald.IdentifyPerson{Attributes: attrs("a", 1)} }, "identifiers", herald.Required},
			{"created_at not a number", func() herald.Op {
				return &herald.IdentifyPerson{Ref: id("1"), Attributes: attrs("created_at", "yesterday")}
			}, "attributes.created_at", herald.Invalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				engines(t, func(t *testing.T, s *store.Store, b *testBundle) {
					err := apply(t, s, b.ws, tt.op())[0]
					e := herald.AsError(err)
					if err == nil || e.Field != tt.wantField || e.Code != tt.wantCode {
						t.Fatalf("err = %v (field %q, code %q), want field %q code %q", err, e.Field, e.Code, tt.wantField, tt.wantCode)
					}
					if cs := changesSince(t, s, 0); len(cs) != 0 {
						t.Errorf("refused op recorded %v", types(cs))
					}
				})
			})
		}
	})
}
