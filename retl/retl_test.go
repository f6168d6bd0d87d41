package retl_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/retl"
)

// sourceDB is a source database for a test: its DSN for the sync, a handle to fill it, and
// the SQL dialect bits the test needs.
type sourceDB struct {
	dsn      string
	db       *sql.DB
	tsType   string // column type of updated_at
	tsValue  func(unix int64) any
	since    string // the incremental predicate
	param    func(n int) string
	tableFor string
}

func sources(t *testing.T) map[string]func(t *testing.T) *sourceDB {
	return map[string]func(t *testing.T) *sourceDB{
		"sqlite": func(t *testing.T) *sourceDB {
			path := filepath.Join(t.TempDir(), "crm.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return &sourceDB{dsn: "sqlite:" + path, db: db, tsType: "INTEGER", tsValue: func(u int64) any { return u },
				since: "updated_at > {{last_sync_unix}}", param: func(int) string { return "?" }}
		},
		"postgres": func(t *testing.T) *sourceDB {
			dsn := testdb.PostgresDSN(t)
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return &sourceDB{dsn: dsn, db: db, tsType: "TIMESTAMPTZ", tsValue: func(u int64) any { return time.Unix(u, 0).UTC() },
				since: "updated_at > {{last_sync_time}}", param: func(n int) string { return fmt.Sprintf("$%d", n) }}
		},
		"mysql": func(t *testing.T) *sourceDB {
			dsn := os.Getenv("HERALD_TEST_MYSQL_URL")
			if dsn == "" {
				t.Skip("HERALD_TEST_MYSQL_URL is not set; MySQL source skipped")
			}
			// mysql://user@host:port/db → go-sql-driver form, for filling the table.
			rest := strings.TrimPrefix(dsn, "mysql://")
			userHost, db, _ := strings.Cut(rest, "/")
			user, host, _ := strings.Cut(userHost, "@")
			h, err := sql.Open("mysql", fmt.Sprintf("%s@tcp(%s)/%s?parseTime=true&loc=UTC", user, host, db))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { h.Close() })
			table := fmt.Sprintf("accounts_%d", time.Now().UnixNano())
			t.Cleanup(func() { h.Exec("DROP TABLE " + table) })
			return &sourceDB{dsn: dsn, db: h, tsType: "DATETIME", tsValue: func(u int64) any { return time.Unix(u, 0).UTC() },
				since: "updated_at > {{last_sync_time}}", param: func(int) string { return "?" }, tableFor: table}
		},
	}
}

func TestSyncFromDatabases(t *testing.T) {
	t.Parallel()
	for name, open := range sources(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := open(t)
			table := "accounts"
			if src.tableFor != "" {
				table = src.tableFor
			}
			ctx := context.Background()
			if _, err := src.db.Exec(fmt.Sprintf(`CREATE TABLE %s (id VARCHAR(40), name VARCHAR(100), amount BIGINT, owner_email VARCHAR(100),
				role VARCHAR(20), updated_at %s)`, table, src.tsType)); err != nil {
				t.Fatal(err)
			}
			insert := fmt.Sprintf("INSERT INTO %s VALUES (%s, %s, %s, %s, %s, %s)", table, src.param(1), src.param(2), src.param(3), src.param(4), src.param(5), src.param(6))
			for _, r := range []struct {
				id, name string
				amount   int64
				owner    string
				role     string
			}{{"a1", "Acme", 15000, "ann@example.com", "owner"}, {"a2", "Beta", 900, "bob@example.com", "owner"}, {"a3", "Gamma", 20000, "", ""}} {
				var owner, role any
				if r.owner != "" {
					owner, role = r.owner, r.role
				}
				if _, err := src.db.Exec(insert, r.id, r.name, r.amount, owner, role, src.tsValue(500)); err != nil {
					t.Fatal(err)
				}
			}

			s, ws := testdb.OpenStore(t, "", herald.Workspace{})
			s.CreateObjectType(ctx, ws.ID, herald.ObjectType{Name: "Accounts"})
			sy := &herald.Sync{WorkspaceID: ws.ID, Name: "accounts", Source: src.dsn, Call: "objects", ObjectTypeID: 1,
				Query:   fmt.Sprintf("SELECT id, name, amount, owner_email, role FROM %s WHERE %s ORDER BY id", table, src.since),
				Mapping: map[string]string{"object_id": "id", "email": "owner_email", "relationship_attributes": "role"}}
			if err := s.CreateSync(ctx, sy); err != nil {
				t.Fatal(err)
			}
			clock := time.Unix(1000, 0)
			r := retl.NewRunner(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
			r.Now = func() time.Time { return clock }

			run, err := r.Run(ctx, sy)
			if err != nil || run.State != "succeeded" || run.RowsRead != 3 || run.RowsChanged != 3 || run.RowsFailed != 0 {
				t.Fatalf("first run = %+v, %v", run, err)
			}
			o, err := s.Object(ctx, ws.ID, herald.ObjectRef{TypeID: 1, ObjectID: "a1"})
			if err != nil || o.Attributes.StringMap()["amount"] != "15000" || o.Attributes.StringMap()["name"] != "Acme" {
				t.Fatalf("a1 = %+v, %v", o, err)
			}
			if _, ok := o.Attributes["role"]; ok {
				t.Errorf("relationship column stored on the object: %v", o.Attributes.StringMap())
			}
			rels, _, _ := s.ObjectPeople(ctx, o.PK, herald.Page{})
			if len(rels) != 1 || rels[0].Person.Email != "ann@example.com" || rels[0].Attributes.StringMap()["role"] != "owner" {
				t.Errorf("a1 relationships = %+v", rels)
			}

			// Incremental: only the row changed since the last successful run's start.
			update := fmt.Sprintf("UPDATE %s SET amount = %s, updated_at = %s WHERE id = %s", table, src.param(1), src.param(2), src.param(3))
			if _, err := src.db.Exec(update, 25000, src.tsValue(1500), "a2"); err != nil {
				t.Fatal(err)
			}
			clock = time.Unix(2000, 0)
			sy, _ = s.Sync(ctx, ws.ID, sy.ID, "")
			if sy.LastSyncTime != 1000 {
				t.Errorf("last_sync_time = %d, want 1000", sy.LastSyncTime)
			}
			run, err = r.Run(ctx, sy)
			if err != nil || run.State != "succeeded" || run.RowsRead != 1 || run.RowsChanged != 1 {
				t.Fatalf("incremental run = %+v, %v", run, err)
			}
			runs, _ := s.SyncRuns(ctx, sy.ID, 10)
			if len(runs) != 2 || runs[0].RowsRead != 1 || runs[1].RowsRead != 3 {
				t.Errorf("history = %+v", runs)
			}
		})
	}
}

func TestSyncReportsBadRowsAndFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ws := testdb.OpenStore(t, "", herald.Workspace{})
	path := filepath.Join(t.TempDir(), "src.db")
	db, _ := sql.Open("sqlite", "file:"+path)
	db.Exec("CREATE TABLE users (uid TEXT, email TEXT, plan TEXT)")
	db.Exec("INSERT INTO users VALUES ('u1','u1@example.com','pro'), (NULL,'x@example.com','free'), ('u3','u3@example.com',NULL)")
	db.Close()
	r := retl.NewRunner(s, slog.New(slog.NewTextHandler(io.Discard, nil)))

	sy := &herald.Sync{WorkspaceID: ws.ID, Name: "users", Source: "sqlite:" + path, Call: "identify", Query: "SELECT uid, email, plan FROM users", Mapping: map[string]string{"id": "uid"}}
	if err := s.CreateSync(ctx, sy); err != nil {
		t.Fatal(err)
	}
	run, err := r.Run(ctx, sy)
	if err != nil || run.State != "succeeded" || run.RowsRead != 3 || run.RowsChanged != 2 || run.RowsFailed != 1 || run.Errors[0].Row != 2 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	p, _ := s.Person(ctx, ws.ID, herald.PersonRef{Kind: herald.ByID, Value: "u3"})
	if p == nil || p.Email != "u3@example.com" {
		t.Errorf("u3 = %+v", p)
	}

	bad := &herald.Sync{WorkspaceID: ws.ID, Name: "broken", Source: "sqlite:" + path, Call: "identify", Query: "SELECT nope FROM missing", Mapping: map[string]string{"id": "nope"}}
	s.CreateSync(ctx, bad)
	run, err = r.Run(ctx, bad)
	if err != nil || run.State != "failed" || !strings.Contains(run.Error, "missing") {
		t.Errorf("failing run = %+v, %v", run, err)
	}
	if bad, _ = s.Sync(ctx, ws.ID, bad.ID, ""); bad.LastSyncTime != 0 {
		t.Errorf("a failed run moved last_sync_time to %d", bad.LastSyncTime)
	}
	oracle := &herald.Sync{WorkspaceID: ws.ID, Name: "x", Source: "oracle://db", Call: "identify", Query: "select 1", Mapping: map[string]string{"id": "a"}}
	s.CreateSync(ctx, oracle)
	if run, _ = r.Run(ctx, oracle); run.State != "failed" || !strings.Contains(run.Error, "postgres://") {
		t.Errorf("unknown source kind: %+v", run)
	}
	if err := s.CreateSync(ctx, &herald.Sync{WorkspaceID: ws.ID, Name: "y", Source: "sqlite:x", Call: "upsert", Query: "select 1"}); herald.AsError(err).Field != "call" {
		t.Errorf("bad call: %v", err)
	}
}

func TestSyncFromCSVURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ws := testdb.OpenStore(t, "", herald.Workspace{})
	sheet := "email,plan\nann@example.com,pro\nbob@example.com,free\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, sheet) }))
	defer srv.Close()
	sy := &herald.Sync{WorkspaceID: ws.ID, Name: "sheet", Source: srv.URL + "/export?format=csv", Call: "identify", Mapping: map[string]string{"email": "email"}, IntervalSeconds: 60}
	if err := s.CreateSync(ctx, sy); err != nil {
		t.Fatal(err)
	}
	r := retl.NewRunner(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	run, err := r.Run(ctx, sy)
	if err != nil || run.State != "succeeded" || run.RowsChanged != 2 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	sheet = "email,plan\nann@example.com,pro\nbob@example.com,pro\n"
	run, _ = r.Run(ctx, sy)
	if run.RowsRead != 2 || run.RowsChanged != 1 {
		t.Errorf("second run = %+v", run)
	}
	due, _ := s.DueSyncs(ctx, time.Now().Unix()+120)
	if len(due) != 1 || due[0].Name != "sheet" {
		t.Errorf("due = %+v", due)
	}
}
