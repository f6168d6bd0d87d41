// Package retl runs reverse-ETL syncs: SQL queries against PostgreSQL, MySQL or SQLite
// databases (or CSV URLs, such as a published spreadsheet), on a schedule, whose rows become
// writes through Herald's write path.
package retl

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx"
	_ "modernc.org/sqlite"             // "sqlite"
)

// source is an opened database and how its queries name parameters.
type source struct {
	db          *sql.DB
	placeholder func(n int) string
}

// openSource opens a source DSN: postgres://…, mysql://user:pass@host:port/db, or
// sqlite:PATH (read only).
func openSource(dsn string) (*source, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		return &source{db: db, placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}, err
	case strings.HasPrefix(dsn, "mysql://"):
		cfg, err := mysqlConfig(dsn)
		if err != nil {
			return nil, err
		}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		return &source{db: sql.OpenDB(conn), placeholder: func(int) string { return "?" }}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
		return &source{db: db, placeholder: func(int) string { return "?" }}, err
	}
	return nil, herald.Errorf(herald.Invalid, "source", "must start with postgres://, mysql:// or sqlite:, or be an http(s) CSV URL")
}

func mysqlConfig(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, herald.Errorf(herald.Invalid, "source", "is not a valid mysql:// URL")
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", u.Host
	if u.Port() == "" {
		cfg.Addr += ":3306"
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	return cfg, nil
}

// bind replaces {{last_sync_time}} (a timestamp) and {{last_sync_unix}} (unix seconds) with
// query parameters, so no value is spliced into SQL.
func (s *source) bind(query string, last int64) (string, []any) {
	var args []any
	var b strings.Builder
	for {
		i := strings.Index(query, "{{")
		if i < 0 {
			b.WriteString(query)
			break
		}
		j := strings.Index(query[i:], "}}")
		if j < 0 {
			b.WriteString(query)
			break
		}
		name := strings.TrimSpace(query[i+2 : i+j])
		b.WriteString(query[:i])
		switch name {
		case "last_sync_time":
			args = append(args, time.Unix(last, 0).UTC())
			b.WriteString(s.placeholder(len(args)))
		case "last_sync_unix":
			args = append(args, last)
			b.WriteString(s.placeholder(len(args)))
		default:
			b.WriteString(query[i : i+j+2])
		}
		query = query[i+j+2:]
	}
	return b.String(), args
}

// rows runs the sync's query and calls fn with each row as column → value.
func (s *source) rows(ctx context.Context, query string, last int64, fn func(cols []string, vals []any) error) error {
	q, args := s.bind(query, last)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("run the query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read a row: %w", err)
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
	return rows.Err()
}
