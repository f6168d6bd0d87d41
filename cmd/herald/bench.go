package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/heraldhq/herald/bench"
	"github.com/heraldhq/herald/store"
)

// BenchCmd measures throughput on this machine.
type BenchCmd struct {
	Ingest   BenchIngestCmd   `cmd:"" help:"Entities/s through POST /api/v2/batch beside a raw batched upsert into the store."`
	Import   BenchImportCmd   `cmd:"" help:"Rows/s of CSV imports of objects and relationships beside a raw batched upsert."`
	Segments BenchSegmentsCmd `cmd:"" help:"Segment full builds, object-update fan-out and incremental latency on a generated graph."`
	Journeys BenchJourneysCmd `cmd:"" help:"Campaign fan-out from one object update to emails at an SMTP server, and event-to-first-step latency."`
}

// BenchJourneysCmd runs the journey benchmark.
type BenchJourneysCmd struct {
	People  int           `default:"100000" help:"People related to the object whose update triggers the campaign."`
	Rate    int           `default:"1000" help:"Events per second in the latency phase."`
	Sustain time.Duration `default:"30s" help:"Length of the latency phase (0 skips it)."`
	Profile string        `help:"Write a CPU profile of the run to this file."`
}

// Run measures on a fresh SQLite file, or on --database (use an empty database).
func (b *BenchJourneysCmd) Run(ctx context.Context, c *Config) error {
	return inBenchDir(b.Profile, func(dir string) error {
		return bench.Journeys(ctx, bench.JourneysConfig{Database: c.Database, DataDir: dir, People: b.People, Rate: b.Rate, Sustain: b.Sustain, Out: os.Stdout})
	})
}

// BenchSegmentsCmd runs the segment benchmark.
type BenchSegmentsCmd struct {
	People    int           `default:"1000000" help:"People in the generated graph."`
	Objects   int           `default:"50000" help:"Objects, of three types."`
	PerPerson int           `default:"3" help:"Relationships per person."`
	Events    int           `default:"3" help:"At most this many events per person."`
	Hot       int           `default:"1000" help:"People related to the account the object-update phase changes."`
	Rate      int           `default:"1000" help:"Changes per second in the sustained phase."`
	Sustain   time.Duration `default:"60s" help:"Length of the sustained phase (0 skips it)."`
	Profile   string        `help:"Write a CPU profile of the run to this file."`
}

// Run measures on a fresh SQLite file, or on --database (use an empty database).
func (b *BenchSegmentsCmd) Run(ctx context.Context, c *Config) error {
	return inBenchDir(b.Profile, func(dir string) error {
		return bench.Segments(ctx, bench.SegmentsConfig{Database: c.Database, DataDir: dir, Rate: b.Rate, Sustain: b.Sustain, Out: os.Stdout,
			Graph: store.BenchGraph{People: b.People, Objects: b.Objects, PerPerson: b.PerPerson, Events: b.Events, Hot: b.Hot}})
	})
}

// inBenchDir runs a benchmark with a fresh data directory (removed after) and, when path is
// set, a CPU profile written to it.
func inBenchDir(path string, run func(dir string) error) error {
	dir, err := os.MkdirTemp("", "herald-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stop, err := profile(path)
	if err != nil {
		return err
	}
	defer stop()
	return run(dir)
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
	stop, err := profile(b.Profile)
	if err != nil {
		return err
	}
	defer stop()
	res, err := bench.Ingest(ctx, bench.IngestConfig{Database: c.Database, DataDir: dir, Duration: b.Duration, Clients: b.Clients, BatchSize: b.Batch})
	if err != nil {
		return err
	}
	fmt.Println(res)
	return nil
}

// BenchImportCmd runs the CSV import benchmark.
type BenchImportCmd struct {
	Rows    int    `default:"1000000" help:"Objects, and relationships, per file."`
	Profile string `help:"Write the CPU profiles of the two timed imports to this path with .objects and .relationships appended."`
}

// Run measures on a fresh SQLite file, or on --database (use an empty database).
func (b *BenchImportCmd) Run(ctx context.Context, c *Config) error {
	dir, err := os.MkdirTemp("", "herald-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	res, err := bench.Import(ctx, bench.ImportConfig{Database: c.Database, DataDir: dir, Rows: b.Rows, Profile: b.Profile})
	if err != nil {
		return err
	}
	fmt.Println(res)
	return nil
}

// profile starts a CPU profile into path (when set) and returns its stop function.
func profile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
