package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/bench"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/store"
)

// TestSegmentsRuns keeps `herald bench segments` working on a small graph: every phase must
// run and report (the run itself checks that the raw query, the evaluation and the built
// membership agree). It measures nothing; the figures come from the command.
func TestSegmentsRuns(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		var out strings.Builder
		err := bench.Segments(context.Background(), bench.SegmentsConfig{Database: dsn, DataDir: t.TempDir(), Out: &out,
			Graph: store.BenchGraph{People: 3000, Objects: 300, PerPerson: 3, Events: 3, Hot: 100}, Rate: 200, Sustain: 500 * time.Millisecond})
		if err != nil {
			t.Fatalf("%v\n%s", err, &out)
		}
		for _, want := range []string{"generated 3000 people", `"admins of rich accounts"`, `"nested and/or/not"`, "object update with 100 related people", "sustained 200 changes/s"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, &out)
			}
		}
	})
}
