package segment_test

import (
	"context"
	"reflect"
	"sort"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
)

func (w *world) memberIDs(t *testing.T, g *herald.Segment) []string {
	t.Helper()
	ids, _, err := w.s.SegmentMembers(context.Background(), g.ID, herald.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, id := range ids {
		out = append(out, id.ID)
	}
	sort.Strings(out)
	return out
}

func rel(typeID int, objectID string, attrs ...any) herald.PersonRelationship {
	a := herald.Attributes{}
	for i := 0; i+1 < len(attrs); i += 2 {
		a[attrs[i].(string)] = raw(attrs[i+1])
	}
	return herald.PersonRelationship{Object: herald.ObjectRef{TypeID: typeID, ObjectID: objectID}, Attributes: a}
}

func relate(p string, rels ...herald.PersonRelationship) herald.Op {
	return &herald.PersonRelationships{Ref: person(p), Items: rels}
}

// TestSeedSegments are the seed article's segments, kept current by the engine.
func TestSeedSegments(t *testing.T) {
	t.Parallel()
	// Object types: 1 Accounts (companies, accounts), 2 Events, 3 Courses.
	cases := []struct {
		name, conditions string
		writes           func() []herald.Op // each engine's run writes ops of its own
		want             []string
		then             func() []herald.Op // a later change, after which want2 holds
		want2            []string
	}{{
		name:       "SaaS: admins of Collaboo",
		conditions: `{"related":{"type_id":1,"object":{"attribute":{"field":"object_id","operator":"eq","value":"collaboo"}},"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"admin"}}}}`,
		writes: func() []herald.Op {
			return []herald.Op{relate("ann", rel(1, "collaboo", "user_role", "admin")), relate("bob", rel(1, "collaboo", "user_role", "contributor")),
				relate("cat", rel(1, "collaboo", "user_role", "contributor"), rel(1, "other", "user_role", "admin"))}
		},
		want:  []string{"ann"},
		then:  func() []herald.Op { return []herald.Op{relate("bob", rel(1, "collaboo", "user_role", "admin"))} },
		want2: []string{"ann", "bob"},
	}, {
		name:       "SaaS: contributors of Collaboo",
		conditions: `{"related":{"type_id":1,"object":{"attribute":{"field":"object_id","operator":"eq","value":"collaboo"}},"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"contributor"}}}}`,
		writes: func() []herald.Op {
			return []herald.Op{relate("ann", rel(1, "collaboo", "user_role", "admin")), relate("bob", rel(1, "collaboo", "user_role", "contributor"))}
		},
		want: []string{"bob"},
	}, {
		name:       "fintech: account holders over $10k",
		conditions: `{"related":{"type_id":1,"object":{"attribute":{"field":"portfolio_amount","operator":"gt","value":10000}}}}`,
		writes: func() []herald.Op {
			return []herald.Op{
				&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acc-1"}, Attributes: herald.Attributes{"portfolio_amount": raw("12000"), "account_type": raw("brokerage")}},
				&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acc-2"}, Attributes: herald.Attributes{"portfolio_amount": raw(9000)}},
				relate("ann", rel(1, "acc-1", "user_role", "owner")), relate("bob", rel(1, "acc-2", "user_role", "owner")),
			}
		},
		want: []string{"ann"},
		// Bob's account crosses $10k: an object change moves its related people.
		then: func() []herald.Op {
			return []herald.Op{&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 1, ObjectID: "acc-2"}, Attributes: herald.Attributes{"portfolio_amount": raw(10500.5)}}}
		},
		want2: []string{"ann", "bob"},
	}, {
		name:       "marketplace: interested in the Madison WI tour",
		conditions: `{"related":{"type_id":2,"object":{"attribute":{"field":"name","operator":"eq","value":"Madison WI"}},"relationship":{"attribute":{"field":"event_interest","operator":"in","value":["favorited","subscribed"]}}}}`,
		writes: func() []herald.Op {
			return []herald.Op{
				&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 2, ObjectID: "tour-madison"}, Attributes: herald.Attributes{"name": raw("Madison WI")}},
				relate("ann", rel(2, "tour-madison", "event_interest", "favorited")), relate("bob", rel(2, "tour-madison", "event_interest", "subscribed")),
				relate("cat", rel(2, "tour-madison", "event_interest", "viewed")),
			}
		},
		want: []string{"ann", "bob"},
		// Deleting the relationship takes Ann out.
		then: func() []herald.Op {
			return []herald.Op{&herald.PersonRelationships{Ref: person("ann"), Delete: true, Items: []herald.PersonRelationship{rel(2, "tour-madison")}}}
		},
		want2: []string{"bob"},
	}, {
		name:       "edtech: not enrolled in Python 101",
		conditions: `{"not":{"related":{"type_id":3,"object":{"attribute":{"field":"name","operator":"eq","value":"Python 101"}},"relationship":{"attribute":{"field":"enrollment_status","operator":"eq","value":"enrolled"}}}}}`,
		writes: func() []herald.Op {
			return []herald.Op{
				&herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: 3, ObjectID: "py101"}, Attributes: herald.Attributes{"name": raw("Python 101")}},
				&herald.IdentifyPerson{Ref: person("ann")}, relate("bob", rel(3, "py101", "enrollment_status", "enrolled")),
				relate("cat", rel(3, "py101", "enrollment_status", "interested")),
			}
		},
		want: []string{"ann", "cat"},
		// Cat enrols: the promotion segment loses her.
		then: func() []herald.Op {
			return []herald.Op{relate("cat", rel(3, "py101", "enrollment_status", "enrolled"))}
		},
		want2: []string{"ann"},
	}, {
		name:       "admin of at least 2 accounts",
		conditions: `{"related":{"type_id":1,"relationship":{"attribute":{"field":"user_role","operator":"eq","value":"admin"}},"count":{"operator":"gte","value":2}}}`,
		writes: func() []herald.Op {
			return []herald.Op{relate("ann", rel(1, "a", "user_role", "admin"), rel(1, "b", "user_role", "admin")), relate("bob", rel(1, "a", "user_role", "admin"))}
		},
		want: []string{"ann"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testdb.Engines(t, func(t *testing.T, dsn string) {
				w := newWorld(t, dsn)
				w.apply(t, tc.writes()...)
				g := w.segment(t, tc.name, tc.conditions)
				e := newEngine(w)
				drain(t, w, e)
				if got := w.memberIDs(t, g); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("after the build: members %v, want %v", got, tc.want)
				}
				if tc.then == nil {
					return
				}
				w.apply(t, tc.then()...)
				drain(t, w, e)
				if got := w.memberIDs(t, g); !reflect.DeepEqual(got, tc.want2) {
					t.Errorf("after the change: members %v, want %v", got, tc.want2)
				}
			})
		})
	}
}
