package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/heraldhq/herald/bench"
)

// BenchCmd measures throughput on this machine.
type BenchCmd struct {
	Ingest BenchIngestCmd `cmd:"" help:"Entities/s through POST /api/v2/batch beside a raw batched upsert into the store."`
}

// BenchIngestCmd runs the ingest benchmark.
type BenchIngestCmd struct {
	Duration time.Duration `default:"10s" help:"How long each phase runs."`
	Clients  int           `default:"16" help:"Concurrent HTTP clients (and raw writers)."`
	Batch    int           `default:"100" help:"Operations per batch."`
	Profile  string        `help:"Write a CPU profile of the run to this file."`
}

// Run measures on a fresh SQLite file, or on --database (use an empty database).
func (b *BenchIngestCmd) Run(ctx context.Context, c *Config) error {
	dir := c.DataDir
	if c.Database == "" {
		tmp, err := os.MkdirTemp("", "herald-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if b.Profile != "" {
		f, err := os.Create(b.Profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench.Ingest(ctx, bench.IngestConfig{Database: c.Database, DataDir: dir, Duration: b.Duration, Clients: b.Clients, BatchSize: b.Batch})
	if err != nil {
		return err
	}
	fmt.Println(res)
	return nil
}
