// Command herald runs Herald: the server, database migrations and tools. All wiring of
// Herald's packages happens here.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Config holds the settings every subcommand shares; each has a flag and an environment
// variable.
type Config struct {
	DataDir  string `name:"data-dir" env:"HERALD_DATA_DIR" default:"./herald-data" help:"Directory of the embedded SQLite database."`
	Database string `name:"database" env:"HERALD_DATABASE_URL" help:"Database URL: empty for the embedded SQLite file in the data dir, postgres://… for PostgreSQL."`
	LogLevel string `name:"log-level" env:"HERALD_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level."`
}

// CLI is Herald's command line.
type CLI struct {
	Config
	Serve   ServeCmd   `cmd:"" help:"Run the HTTP server (Track API, App API)."`
	Migrate MigrateCmd `cmd:"" help:"Create or upgrade the database schema, then exit."`
	Import  ImportCmd  `cmd:"" help:"Import people, objects or relationships from a CSV file."`
	Apply   ApplyCmd   `cmd:"" help:"Create or update object types, segments, templates and campaigns from YAML or JSON files."`
	Sync    SyncCmd    `cmd:"" help:"Reverse ETL: define, list and run syncs from SQL databases and CSV URLs."`
	Bench   BenchCmd   `cmd:"" help:"Measure throughput on this machine."`
	Version VersionCmd `cmd:"" help:"Print the version."`
}

func main() {
	var cli CLI
	kctx := kong.Parse(&cli, kong.Name("herald"),
		kong.Description("Herald: self-hosted customer messaging built around custom objects."),
		kong.UsageOnError())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(&cli.Config); err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

func (c *Config) logger() *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints the version.
func (VersionCmd) Run() error {
	fmt.Println("herald", version)
	return nil
}

// MigrateCmd migrates the database.
type MigrateCmd struct{}

// Run opens (and so migrates) the configured database.
func (MigrateCmd) Run(ctx context.Context, c *Config) error {
	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("database migrated (%s)\n", s.Engine())
	return nil
}
