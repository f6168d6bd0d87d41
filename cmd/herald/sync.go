package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/retl"
)

// SyncCmd manages reverse-ETL syncs.
type SyncCmd struct {
	Add  SyncAddCmd  `cmd:"" help:"Define a sync: a SQL query (or CSV URL) whose rows become writes."`
	List SyncListCmd `cmd:"" help:"List syncs with their last run."`
	Run  SyncRunCmd  `cmd:"" help:"Run a sync now and print the run."`
}

// SyncAddCmd defines a sync.
type SyncAddCmd struct {
	Name   string            `arg:"" help:"A name for the sync."`
	Source string            `required:"" help:"postgres://…, mysql://user:pass@host:port/db, sqlite:PATH, or an http(s) CSV URL."`
	Query  string            `help:"The SQL query; {{last_sync_time}} (a timestamp) and {{last_sync_unix}} (seconds) are the last successful run's start."`
	Call   string            `required:"" enum:"identify,objects,relationships,track" help:"What each row becomes."`
	Type   string            `help:"Object type (id or name) for objects and relationships."`
	Map    map[string]string `help:"Mapping of roles to columns, e.g. --map id=user_id --map object_id=account_id --map relationship_attributes=role."`
	Every  time.Duration     `help:"Run on this schedule (e.g. 15m) while herald serve runs; 0 runs only on demand."`
}

// Run stores the sync.
func (c *SyncAddCmd) Run(ctx context.Context, cfg *Config) error {
	s, ws, err := openWorkspace(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	sy := &herald.Sync{WorkspaceID: ws.ID, Name: c.Name, Source: c.Source, Query: c.Query, Call: c.Call, Mapping: c.Map,
		IntervalSeconds: int64(c.Every / time.Second)}
	if c.Type != "" {
		if sy.ObjectTypeID, err = resolveType(ctx, s, ws.ID, c.Type); err != nil {
			return err
		}
	}
	if err := s.CreateSync(ctx, sy); err != nil {
		return err
	}
	fmt.Printf("sync %q created (id %d)\n", sy.Name, sy.ID)
	return nil
}

// SyncListCmd lists syncs.
type SyncListCmd struct{}

// Run prints the syncs.
func (SyncListCmd) Run(ctx context.Context, cfg *Config) error {
	s, ws, err := openWorkspace(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	syncs, err := s.Syncs(ctx, ws.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCALL\tEVERY\tLAST RUN\tSTATE\tREAD\tCHANGED\tFAILED")
	for _, sy := range syncs {
		runs, err := s.SyncRuns(ctx, sy.ID, 1)
		if err != nil {
			return err
		}
		every := "on demand"
		if sy.IntervalSeconds > 0 {
			every = (time.Duration(sy.IntervalSeconds) * time.Second).String()
		}
		last, state, read, changed, failed := "never", "", 0, 0, 0
		if len(runs) > 0 {
			r := runs[0]
			last, state, read, changed, failed = time.Unix(r.StartedAt, 0).UTC().Format(time.RFC3339), r.State, r.RowsRead, r.RowsChanged, r.RowsFailed
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", sy.Name, sy.Call, every, last, state, read, changed, failed)
	}
	return tw.Flush()
}

// SyncRunCmd runs a sync now.
type SyncRunCmd struct {
	Name string `arg:"" help:"The sync to run."`
}

// Run runs the sync and prints the run; a failed run is an error.
func (c *SyncRunCmd) Run(ctx context.Context, cfg *Config) error {
	s, ws, err := openWorkspace(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	sy, err := s.Sync(ctx, ws.ID, 0, c.Name)
	if err != nil {
		return err
	}
	run, err := retl.NewRunner(s, cfg.logger()).Run(ctx, sy)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d rows read, %d changed, %d failed in %d ms\n", run.State, run.RowsRead, run.RowsChanged, run.RowsFailed, run.DurationMS)
	for _, e := range run.Errors {
		fmt.Printf("  row %d: %s\n", e.Row, e.Reason)
	}
	if run.State != "succeeded" {
		return fmt.Errorf("sync failed: %s", run.Error)
	}
	return nil
}
