package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/bench"
	"github.com/heraldhq/herald/internal/testdb"
)

// TestIngestRuns keeps `herald bench ingest` working: a short run on each engine must move
// entities through both phases. It measures nothing; the figures come from the command.
func TestIngestRuns(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, dsn string) {
		res, err := bench.Ingest(context.Background(), bench.IngestConfig{Database: dsn, DataDir: t.TempDir(), Duration: 200 * time.Millisecond, Clients: 2, BatchSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		if res.RawPerSec <= 0 || res.HTTPEntities <= 0 || res.HTTPBatches*50 != res.HTTPEntities || (res.Engine == "postgres") != (dsn != "") {
			t.Errorf("result = %+v", res)
		}
	})
}
