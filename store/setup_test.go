package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/store"
)

// testBundle is what a conformance test gets besides the store.
type testBundle struct {
	ws    int64
	clock *time.Time
}

// engines runs fn once per engine: SQLite always, PostgreSQL when HERALD_TEST_DATABASE_URL is
// set (each test in a schema of its own, dropped afterwards).
func engines(t *testing.T, fn func(t *testing.T, s *store.Store, b *testBundle)) {
	t.Helper()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		s := MustOpen(t, dsn)
		fn(t, s, bundle(t, s))
	})
}

// MustOpen opens a store on dsn, or on a fresh SQLite file when dsn is empty.
func MustOpen(tb testing.TB, dsn string) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), dsn, tb.TempDir())
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func bundle(t *testing.T, s *store.Store) *testBundle {
	t.Helper()
	clock := time.Unix(1_700_000_000, 0)
	b := &testBundle{clock: &clock}
	s.Now = func() time.Time { return *b.clock }
	ws, _, err := s.DefaultWorkspace(context.Background(), herald.Workspace{})
	if err != nil {
		t.Fatalf("workspace: %v", err)
	}
	b.ws = ws.ID
	return b
}

func (b *testBundle) tick(d time.Duration) { *b.clock = b.clock.Add(d) }

// apply applies ops and fails the test on a store fault; it returns the per-op errors.
func apply(t *testing.T, s *store.Store, ws int64, ops ...herald.Op) []error {
	t.Helper()
	errs, err := s.Apply(context.Background(), ws, ops)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return errs
}

// mustApply applies ops and fails the test if any op failed.
func mustApply(t *testing.T, s *store.Store, ws int64, ops ...herald.Op) {
	t.Helper()
	for i, err := range apply(t, s, ws, ops...) {
		if err != nil {
			t.Fatalf("op %d (%T): %v", i, ops[i], err)
		}
	}
}

func attrs(kv ...any) herald.Attributes {
	a := herald.Attributes{}
	for i := 0; i < len(kv); i += 2 {
		b, _ := json.Marshal(kv[i+1])
		a[kv[i].(string)] = b
	}
	return a
}

func id(v string) herald.PersonRef    { return herald.PersonRef{Kind: herald.ByID, Value: v} }
func email(v string) herald.PersonRef { return herald.PersonRef{Kind: herald.ByEmail, Value: v} }
func obj(typeID int, objectID string) herald.ObjectRef {
	return herald.ObjectRef{TypeID: typeID, ObjectID: objectID}
}

// changeTypes lists the types of all changes after seq.
func changesSince(t *testing.T, s *store.Store, after int64) []herald.Change {
	t.Helper()
	cs, err := s.ChangesAfter(context.Background(), after, 10000)
	if err != nil {
		t.Fatalf("changes: %v", err)
	}
	return cs
}

func types(cs []herald.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Type
	}
	return out
}

func lastSeq(t *testing.T, s *store.Store) int64 {
	cs := changesSince(t, s, 0)
	if len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].Seq
}

func mustType(t *testing.T, s *store.Store, ws int64, name, singular string) *herald.ObjectType {
	t.Helper()
	ot, err := s.CreateObjectType(context.Background(), ws, herald.ObjectType{Name: name, SingularName: singular})
	if err != nil {
		t.Fatalf("create type: %v", err)
	}
	return ot
}
