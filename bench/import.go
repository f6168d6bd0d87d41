package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/importer"
	"github.com/heraldhq/herald/store"
)

// ImportConfig says what the import benchmark measures.
type ImportConfig struct {
	Database string // DSN; empty means a fresh SQLite file in DataDir
	DataDir  string
	Rows     int // objects, and relationships, per file
	// Profile, when set, is a file name prefix: the CPU profile of each timed import is written
	// to Profile+".objects" and Profile+".relationships".
	Profile string
}

// ImportResult holds the figures: rows/s for the raw store baseline and for the CSV importer
// (change records included), for an objects file and a relationships file.
type ImportResult struct {
	Engine                                string
	Rows                                  int
	RawObjectsPerSec, ObjectsPerSec       float64
	RawRelationshipsPerSec, RelationsPerS float64
}

func (r ImportResult) String() string {
	return fmt.Sprintf("%-9s %d rows  objects: raw %8.0f/s, CSV import %8.0f/s (%.0f%%)   relationships: raw %8.0f/s, CSV import %8.0f/s (%.0f%%)",
		r.Engine, r.Rows, r.RawObjectsPerSec, r.ObjectsPerSec, 100*r.ObjectsPerSec/r.RawObjectsPerSec,
		r.RawRelationshipsPerSec, r.RelationsPerS, 100*r.RelationsPerS/r.RawRelationshipsPerSec)
}

// Import writes an objects CSV and a relationships CSV of cfg.Rows rows each and measures the
// raw store baseline beside `herald import` on each. The relationships relate cfg.Rows/10
// existing people (ten objects each) to the imported objects.
func Import(ctx context.Context, cfg ImportConfig) (ImportResult, error) {
	res := ImportResult{Rows: cfg.Rows}
	s, err := store.Open(ctx, cfg.Database, cfg.DataDir)
	if err != nil {
		return res, err
	}
	defer s.Close()
	res.Engine = s.Engine()
	n := cfg.Rows
	objects, rels := filepath.Join(cfg.DataDir, "objects.csv"), filepath.Join(cfg.DataDir, "relationships.csv")
	if err := writeCSV(objects, "object_id,name,portfolio_amount,account_type", n, func(i int) string {
		return fmt.Sprintf("acc-%d,Account %d,%d,brokerage", i, i, i%50000)
	}); err != nil {
		return res, err
	}
	// Person i/10 relates to object (i*7919) mod n: each pair once.
	if err := writeCSV(rels, "object_type_id,object_id,id,user_role", n, func(i int) string {
		return fmt.Sprintf("1,acc-%d,p-%d,member", (i*7919)%n, i/10)
	}); err != nil {
		return res, err
	}
	raw, err := workspace(ctx, s, "bench-import-raw")
	if err != nil {
		return res, err
	}
	imp, err := workspace(ctx, s, "bench-import")
	if err != nil {
		return res, err
	}
	// People for the relationships, in both workspaces, untimed.
	for _, ws := range []int64{raw.ID, imp.ID} {
		if err := rawBatches(ctx, s, ws, n/10, func(i int) store.RawRow {
			return store.RawRow{Kind: "person", PersonID: fmt.Sprintf("p-%d", i), Attributes: herald.Attributes{}}
		}); err != nil {
			return res, err
		}
	}

	start := time.Now()
	if err := rawBatches(ctx, s, raw.ID, n, func(i int) store.RawRow {
		return store.RawRow{Kind: "object-only", ObjectType: 1, ObjectID: fmt.Sprintf("acc-%d", i), Attributes: herald.Attributes{
			"name": json.RawMessage(fmt.Sprintf(`"Account %d"`, i)), "portfolio_amount": json.RawMessage(fmt.Sprintf(`"%d"`, i%50000)), "account_type": json.RawMessage(`"brokerage"`)}}
	}); err != nil {
		return res, err
	}
	res.RawObjectsPerSec = float64(n) / time.Since(start).Seconds()
	if res.ObjectsPerSec, err = importFile(ctx, s, imp.ID, objects, importer.Options{Kind: importer.Objects, TypeID: 1}, n, cfg.profile("objects")); err != nil {
		return res, err
	}
	start = time.Now()
	if err := rawBatches(ctx, s, raw.ID, n, func(i int) store.RawRow {
		return store.RawRow{Kind: "relationship", PersonID: fmt.Sprintf("p-%d", i/10), ObjectType: 1, ObjectID: fmt.Sprintf("acc-%d", (i*7919)%n),
			RelAttrs: herald.Attributes{"user_role": json.RawMessage(`"member"`)}}
	}); err != nil {
		return res, err
	}
	res.RawRelationshipsPerSec = float64(n) / time.Since(start).Seconds()
	if res.RelationsPerS, err = importFile(ctx, s, imp.ID, rels, importer.Options{Kind: importer.Relationships}, n, cfg.profile("relationships")); err != nil {
		return res, err
	}
	return res, nil
}

func (cfg ImportConfig) profile(phase string) string {
	if cfg.Profile == "" {
		return ""
	}
	return cfg.Profile + "." + phase
}

func importFile(ctx context.Context, s *store.Store, ws int64, path string, opts importer.Options, want int, profile string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if profile != "" {
		out, err := os.Create(profile)
		if err != nil {
			return 0, err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return 0, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	sum, err := importer.Import(ctx, s, ws, f, opts)
	if err != nil {
		return 0, err
	}
	if sum.Created != want || sum.Failed != 0 {
		return 0, fmt.Errorf("import of %s: %s (first errors %v)", filepath.Base(path), sum, first(sum.Errors, 3))
	}
	return float64(want) / time.Since(start).Seconds(), nil
}

func first(errs []importer.RowError, n int) []importer.RowError {
	if len(errs) > n {
		return errs[:n]
	}
	return errs
}

// rawBatches writes n raw rows in transactions of 400 (SQLite allows 500 terms in the
// compound SELECT RawUpsert builds for relationships).
func rawBatches(ctx context.Context, s *store.Store, ws int64, n int, row func(int) store.RawRow) error {
	batch := make([]store.RawRow, 0, 400)
	for i := 0; i < n; i++ {
		batch = append(batch, row(i))
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.RawUpsert(ctx, ws, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

func writeCSV(path, header string, n int, row func(int) string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, header)
	for i := 0; i < n; i++ {
		fmt.Fprintln(w, row(i))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
