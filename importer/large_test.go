//go:build !race

// The race detector slows the embedded SQLite some fifty times; scripts/test runs this file
// in a separate pass without it.

package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/importer"
	"github.com/heraldhq/herald/store"
)

// TestLargeRelationshipFile imports a 100,000-row relationships file (10,000 people, each
// related to ten of 100,000 objects) and checks every row landed, then that a re-run is a
// no-op.
func TestLargeRelationshipFile(t *testing.T) {
	t.Parallel()
	const rows = 100_000
	var b strings.Builder
	b.WriteString("object_type_id,object_id,id,user_role\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "1,acc-%d,p-%d,member\n", (i*7919)%rows, i/10)
	}
	file := b.String()
	setup(t, func(t *testing.T, s *store.Store, ws int64) {
		ctx := context.Background()
		sum := run(t, s, ws, file, importer.Options{Kind: importer.Relationships, BatchSize: 2000})
		if sum.Rows != rows || sum.Created != rows || sum.Failed != 0 {
			t.Fatalf("summary = %s (errors %v)", sum, first(sum.Errors))
		}
		p, err := s.Person(ctx, ws, herald.PersonRef{Kind: herald.ByID, Value: "p-9999"})
		if err != nil {
			t.Fatal(err)
		}
		rels, _, _ := s.PersonObjects(ctx, p.PK, herald.Page{})
		if len(rels) != 10 {
			t.Errorf("p-9999 has %d relationships, want 10", len(rels))
		}
		again := run(t, s, ws, file, importer.Options{Kind: importer.Relationships, BatchSize: 2000})
		if again.Unchanged != rows {
			t.Errorf("re-run = %s", again)
		}
	})
}

func first(errs []importer.RowError) []importer.RowError {
	if len(errs) > 3 {
		return errs[:3]
	}
	return errs
}
