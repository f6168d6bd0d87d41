package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect isolates what differs between SQLite and PostgreSQL.
type dialect interface {
	name() string
	gooseDialect() goose.Dialect
	rebind(query string) string
	// lockChanges serialises the appending of change records until commit, so that their
	// sequence numbers are in commit order.
	lockChanges(ctx context.Context, tx *sql.Tx) error
	// retryable reports whether a transaction failed only because of a concurrent one.
	retryable(err error) bool
	// isUnique reports a unique-constraint violation.
	isUnique(err error) bool
	// in renders "col IN (values)" with its arguments (col may be empty, for a suffix).
	in(col string, values []any) (string, []any)
	// forUpdate is the suffix that locks the rows a write transaction reads.
	forUpdate() string
	// castRaw adapts RawUpsert's untyped SELECT-list parameters.
	castRaw(q string) string
	// allocate reserves n primary keys of table.
	allocate(w *writer, table string, n int, next *int64) ([]int64, error)
}

type sqliteDialect struct{}

func (sqliteDialect) name() string                               { return "sqlite" }
func (sqliteDialect) gooseDialect() goose.Dialect                { return goose.DialectSQLite3 }
func (sqliteDialect) rebind(q string) string                     { return q }
func (sqliteDialect) lockChanges(context.Context, *sql.Tx) error { return nil } // one writer already
func (sqliteDialect) retryable(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		c := e.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}
func (sqliteDialect) isUnique(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

type postgresDialect struct{}

func (postgresDialect) name() string                { return "postgres" }
func (postgresDialect) gooseDialect() goose.Dialect { return goose.DialectPostgres }

// rebind turns ? placeholders into $1, $2 …, leaving a ? inside a string literal alone (the
// segment compiler writes attribute names as literals).
func (postgresDialect) rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	quoted := false
	for i := 0; i < len(q); i++ {
		if q[i] == '\'' {
			quoted = !quoted // a doubled '' inside a literal toggles twice
		}
		if q[i] == '?' && !quoted {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// changesLockKey is an arbitrary constant naming the advisory lock that orders change records.
const changesLockKey = 0x4845524c44 // "HERLD"

func (postgresDialect) lockChanges(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", changesLockKey)
	return err
}

func (postgresDialect) retryable(err error) bool {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		// serialization_failure, deadlock_detected, unique_violation (a concurrent insert of
		// the same new entity: re-running the transaction finds it and updates instead).
		return e.Code == "40001" || e.Code == "40P01" || e.Code == "23505"
	}
	return false
}

func (postgresDialect) isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// allocate reserves n primary keys of table (people or objects). SQLite has one writer, so
// the keys after the largest one are free for the rest of the transaction (next remembers where
// it got to); PostgreSQL draws them from the table's sequence in one round trip.
func (sqliteDialect) allocate(w *writer, table string, n int, next *int64) ([]int64, error) {
	if *next == 0 {
		col := "pk"
		if table == "changes" {
			col = "seq"
		}
		// AUTOINCREMENT tables never reuse a key, not even a deleted largest one: the change
		// log refers to people and objects by key.
		var max int64
		if err := w.queryRow("SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), COALESCE((SELECT MAX("+col+") FROM "+table+"), 0))", table).Scan(&max); err != nil {
			return nil, err
		}
		*next = max + 1
	}
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = *next + int64(i)
	}
	*next += int64(n)
	return keys, nil
}

func (postgresDialect) allocate(w *writer, table string, n int, _ *int64) ([]int64, error) {
	rows, err := w.query("SELECT nextval(pg_get_serial_sequence('"+table+"', 'pk')) FROM generate_series(1, ?)", n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := make([]int64, 0, n)
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

func (sqliteDialect) castRaw(q string) string { return q }

// castRaw types the parameters PostgreSQL cannot infer in a SELECT list.
func (postgresDialect) castRaw(q string) string {
	r := strings.NewReplacer("? AS ws", "?::bigint AS ws", "? AS pws", "?::bigint AS pws", "? AS ows", "?::bigint AS ows",
		"? AS tid", "?::bigint AS tid", "? AS attrs", "?::jsonb AS attrs", "? AS data", "?::jsonb AS data",
		"? AS c", "?::bigint AS c", "? AS u", "?::bigint AS u", "? AS ts", "?::bigint AS ts",
		"? AS pid", "?::text AS pid", "? AS oid", "?::text AS oid", "? AS name", "?::text AS name", "? AS typ", "?::text AS typ")
	return r.Replace(q)
}

func (sqliteDialect) forUpdate() string { return "" } // the one writer holds the database lock

func (postgresDialect) forUpdate() string { return " FOR UPDATE" }

// in pads the values with copies of the last one to a bucket size, so that statements are
// prepared once per bucket rather than once per length.
func (sqliteDialect) in(col string, values []any) (string, []any) {
	if n := bucket(len(values)); n > len(values) && len(values) > 0 {
		padded := make([]any, n)
		copy(padded, values)
		for i := len(values); i < n; i++ {
			padded[i] = values[len(values)-1]
		}
		values = padded
	}
	return col + " IN (" + placeholders(len(values)) + ")", values
}

// in passes the values as one array: one parameter keeps the statement and its plan the same
// whatever the number of values, where IN ($1 … $400) is planned anew for each count.
func (postgresDialect) in(col string, values []any) (string, []any) {
	if len(values) > 0 {
		if _, ok := values[0].(int64); ok {
			ints := make([]int64, len(values))
			for i, v := range values {
				ints[i] = v.(int64)
			}
			return col + " = ANY(?)", []any{ints}
		}
	}
	strs := make([]string, len(values))
	for i, v := range values {
		strs[i] = fmt.Sprint(v)
	}
	return col + " = ANY(?)", []any{strs}
}
