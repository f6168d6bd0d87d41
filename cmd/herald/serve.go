package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/appapi"
	"github.com/heraldhq/herald/importer"
	"github.com/heraldhq/herald/journey"
	"github.com/heraldhq/herald/pipelines"
	"github.com/heraldhq/herald/retl"
	"github.com/heraldhq/herald/segment"
	"github.com/heraldhq/herald/store"
	"github.com/heraldhq/herald/trackapi"
)

// ServeCmd runs the HTTP server.
type ServeCmd struct {
	Addr        string `name:"addr" env:"HERALD_ADDR" default:"localhost:8080" help:"Address to listen on."`
	SiteID      string `name:"site-id" env:"HERALD_SITE_ID" help:"Track API site id of the default workspace (generated when unset)."`
	TrackAPIKey string `name:"track-api-key" env:"HERALD_TRACK_API_KEY" help:"Track API key of the default workspace (generated when unset)."`
	AppAPIKey   string `name:"app-api-key" env:"HERALD_APP_API_KEY" help:"App API bearer key of the default workspace (generated when unset)."`
	WriteKey    string `name:"write-key" env:"HERALD_WRITE_KEY" help:"Pipelines API write key of the default workspace (generated when unset)."`

	Messages MessagesConfig `embed:"" group:"Messages"`
}

func openStore(ctx context.Context, c *Config) (*store.Store, error) {
	return store.Open(ctx, c.Database, c.DataDir)
}

// openWorkspace opens the store and its default workspace, for the commands that work on the
// data directly (import, sync).
func openWorkspace(ctx context.Context, c *Config) (*store.Store, *herald.Workspace, error) {
	s, err := openStore(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	ws, _, err := s.DefaultWorkspace(ctx, herald.Workspace{})
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, ws, nil
}

// Run serves until ctx is cancelled (SIGINT, SIGTERM), then drains requests.
func (cmd *ServeCmd) Run(ctx context.Context, c *Config) error {
	log := c.logger()
	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	ws, created, err := s.DefaultWorkspace(ctx, herald.Workspace{SiteID: cmd.SiteID, TrackAPIKey: cmd.TrackAPIKey, AppAPIKey: cmd.AppAPIKey, WriteKey: cmd.WriteKey})
	if err != nil {
		return fmt.Errorf("default workspace: %w", err)
	}
	if created && (cmd.SiteID == "" || cmd.TrackAPIKey == "" || cmd.AppAPIKey == "" || cmd.WriteKey == "") {
		fmt.Fprintf(os.Stdout, "Created the default workspace. Keep these credentials; they are shown once.\n"+
			"  Track API site id:  %s\n  Track API key:      %s\n  App API key:        %s\n  Pipelines write key: %s\n",
			ws.SiteID, ws.TrackAPIKey, ws.AppAPIKey, ws.WriteKey)
	}

	mux := http.NewServeMux()
	trackapi.New(s, log).Register(mux)
	imports := importer.NewService(s, log)
	defer imports.Close()
	if err := s.FailInterruptedImports(ctx); err != nil {
		return err
	}
	syncs := retl.NewRunner(s, log)
	go syncs.Schedule(ctx, time.Second)
	segments := segment.NewEngine(s, log)
	go segments.Run(ctx)
	app := appapi.New(s, log)
	app.Imports = imports
	app.Syncs = syncs
	app.Segments = segments
	msgs, msgsDone, err := cmd.Messages.startMessaging(ctx, s, ws, cmd.Addr, log)
	if err != nil {
		return err
	}
	defer msgsDone()
	app.Messages, app.Templates = msgs.svc, msgs.engine
	journeys := journey.New(s, msgs.svc, log)
	journeys.Lease = cmd.Messages.WorkerLease
	go journeys.Run(ctx)
	app.Journeys = journeys
	msgs.register(mux, log)
	app.Register(mux)
	pipelines.New(s, log).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","database":%q}`+"\n", s.Engine())
	})

	ln, err := net.Listen("tcp", cmd.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second}
	log.Info("herald serving", "addr", ln.Addr().String(), "database", s.Engine(), "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("herald stopped")
	return nil
}
