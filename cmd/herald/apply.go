package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/heraldhq/herald/manifest"
)

// ApplyCmd loads definitions as code into the configured store, whether or not herald serve is
// running on it (the engines pick the changes up from the store).
type ApplyCmd struct {
	File string `short:"f" required:"" type:"existingpath" help:"A manifest file (YAML or JSON), or a directory of them (*.yaml, *.yml, *.json directly in it)."`
}

// Run validates every definition, then writes the missing and changed ones and prints what it
// did; an invalid definition fails the command with its file and field, and nothing is written.
func (c *ApplyCmd) Run(ctx context.Context, cfg *Config) error {
	set, err := manifest.Load(c.File)
	if err != nil {
		return printErrors(err)
	}
	s, ws, err := openWorkspace(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	changes, err := manifest.Apply(ctx, s, ws.ID, set)
	for _, ch := range changes {
		fmt.Println(ch)
	}
	if err != nil {
		return printErrors(err)
	}
	return nil
}

// printErrors prints each of a joined error's errors on a line of its own and returns an
// error that says how many there were.
func printErrors(err error) error {
	var list interface{ Unwrap() []error }
	if !errors.As(err, &list) || len(list.Unwrap()) < 2 {
		return err
	}
	for _, e := range list.Unwrap() {
		fmt.Fprintln(os.Stderr, e)
	}
	return fmt.Errorf("%d invalid definitions; nothing was applied", len(list.Unwrap()))
}
