// Package testdb gives tests a PostgreSQL schema of their own on the database named by
// HERALD_TEST_DATABASE_URL.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/store"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// EnvVar names the variable that points tests at PostgreSQL.
const EnvVar = "HERALD_TEST_DATABASE_URL"

// PostgresDSN returns the DSN of a fresh schema, dropped when tb ends, or skips tb when
// HERALD_TEST_DATABASE_URL is unset.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		tb.Skip(EnvVar + " is not set; PostgreSQL run skipped")
	}
	return SchemaDSN(tb, dsn)
}

// SchemaDSN creates a schema of its own for tb and returns dsn pointed at it.
func SchemaDSN(tb testing.TB, dsn string) string {
	tb.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Engines runs fn as a parallel subtest per engine: "sqlite" with an empty DSN (the caller's
// fresh embedded file), "postgres" with the DSN of a schema of its own (skipped without
// HERALD_TEST_DATABASE_URL).
func Engines(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			dsn := ""
			if engine == "postgres" {
				dsn = PostgresDSN(t)
			}
			fn(t, dsn)
		})
	}
}

// OpenStore opens a store on dsn (a fresh SQLite file when dsn is empty) and its default
// workspace, with the credentials of want where they are set; both close with tb.
func OpenStore(tb testing.TB, dsn string, want herald.Workspace) (*store.Store, *herald.Workspace) {
	tb.Helper()
	s, err := store.Open(context.Background(), dsn, tb.TempDir())
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	ws, _, err := s.DefaultWorkspace(context.Background(), want)
	if err != nil {
		tb.Fatalf("default workspace: %v", err)
	}
	return s, ws
}
