package store

import (
	"context"
	"database/sql"
	"errors"
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

// rebind turns ? placeholders into $1, $2 …; Herald's queries contain no ? in literals.
func (postgresDialect) rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
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
