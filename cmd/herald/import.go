package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/importer"
	"github.com/heraldhq/herald/store"
	"github.com/schollz/progressbar/v3"
)

// ImportCmd imports a CSV file into the configured store, whether or not herald serve is
// running on it.
type ImportCmd struct {
	Kind          string            `arg:"" enum:"people,objects,relationships" help:"What the file holds: people, objects or relationships."`
	File          string            `arg:"" type:"existingfile" help:"The CSV file."`
	Type          string            `help:"Object type (id or name): required for objects, the default for relationships without an object_type_id column."`
	Identifier    string            `help:"Column that identifies people: id, email (or cio_id for relationships)."`
	DataToProcess string            `name:"data-to-process" default:"all" enum:"all,only_new,only_existing" help:"Which rows to apply."`
	Hint          map[string]string `help:"Column types, e.g. --hint amount=number --hint vip=boolean --hint joined=timestamp:2006-01-02."`
	NoTriggers    bool              `name:"no-triggers" help:"Update people, objects and segments without starting journeys."`
	Quiet         bool              `help:"No progress bar."`
}

// Run imports the file and prints a summary; it fails only when the file cannot be imported.
func (c *ImportCmd) Run(ctx context.Context, cfg *Config) error {
	s, ws, err := openWorkspace(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	typeID := 0
	if c.Type != "" {
		if typeID, err = resolveType(ctx, s, ws.ID, c.Type); err != nil {
			return err
		}
	}
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	var in io.Reader = f
	if !c.Quiet {
		info, _ := f.Stat()
		bar := progressbar.DefaultBytes(info.Size(), "importing "+c.Kind)
		defer bar.Finish()
		in = io.TeeReader(f, bar)
	}
	sum, err := importer.Import(ctx, s, ws.ID, in, importer.Options{Kind: importer.Kind(c.Kind), TypeID: typeID,
		Identifier: c.Identifier, DataToProcess: c.DataToProcess, Hints: c.Hint, NoTriggers: c.NoTriggers})
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr)
	fmt.Println(sum)
	for i, e := range sum.Errors {
		if i == 20 {
			fmt.Printf("… and %d more refused rows\n", len(sum.Errors)-20)
			break
		}
		fmt.Printf("  line %d: %s\n", e.Line, e.Reason)
	}
	return nil
}

// resolveType finds a type by id, name, singular name or slug.
func resolveType(ctx context.Context, s *store.Store, ws int64, v string) (int, error) {
	types, err := s.ObjectTypes(ctx, ws)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(v)
	for _, t := range types {
		if t.ID == n || strings.EqualFold(t.Name, v) || strings.EqualFold(t.SingularName, v) || t.Slug == v || t.SingularSlug == v {
			return t.ID, nil
		}
	}
	return 0, herald.Errorf(herald.NotFound, "type", "no object type is named %q", v)
}
