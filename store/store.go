// Package store is Herald's storage: the one write path, the reads the APIs need, and the
// migrations, on the embedded SQLite default and on PostgreSQL. The few places where the two
// engines differ live in dialect.go.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations
var migrations embed.FS

// TxHook runs inside every write transaction after its change records are appended, with
// those records (Seq filled in). An error rolls the whole write back. It is the seam through
// which follow-up jobs are enqueued atomically with the write (a transactional outbox).
type TxHook func(ctx context.Context, tx *sql.Tx, changes []herald.Change) error

// Store is a handle on one Herald database.
type Store struct {
	d dialect
	w *sql.DB // the writer: one connection on SQLite
	r *sql.DB // readers: a pool; the same pool as w on PostgreSQL

	// Now is the clock every write uses; tests replace it. Default time.Now.
	Now func() time.Time
	// Rand is the source of generated identifiers (cio_id, cio_object_id, keys). Default crypto/rand.
	Rand io.Reader
	// AfterWrite, when set, runs inside every write transaction that produced changes.
	AfterWrite TxHook

	typesMu sync.RWMutex
	types   map[typeKey]*herald.ObjectType // positive cache: types are never deleted

	suppressions suppressionCache
	committer    committer
	ckpt         *checkpointer // SQLite only
	analyzer     analyzer
	notify       notifier

	hot      sync.Map // SQLite: query text → *sql.Stmt prepared on the writer, shared by transactions
	wanted   sync.Map // SQLite: query texts to prepare on the writer between transactions
	hotCount int      // statements in hot; only the committer goroutine changes it

	queries   sync.Map // query text written with ? → the dialect's text
	readStmts sync.Map // SQLite: query text → *sql.Stmt prepared on the reader pool (see reader.go)
}

type typeKey struct {
	ws int64
	id int
}

// Open opens (creating if needed) the database named by dsn and migrates it. An empty dsn
// means the embedded SQLite file herald.db inside dataDir; a postgres:// or postgresql:// dsn
// means PostgreSQL; a "sqlite:" or "file:" dsn names another SQLite file.
func Open(ctx context.Context, dsn, dataDir string) (*Store, error) {
	s := &Store{Now: time.Now, Rand: rand.Reader, types: map[typeKey]*herald.ObjectType{}}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.d = postgresDialect{}
		s.w, err = sql.Open("pgx", dsn)
		if err == nil {
			s.w.SetMaxOpenConns(20)
			s.w.SetMaxIdleConns(20)
			s.r = s.w
		}
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if path == "" {
			if err := os.MkdirAll(dataDir, 0o755); err != nil {
				return nil, fmt.Errorf("create data dir: %w", err)
			}
			path = filepath.Join(dataDir, "herald.db")
		}
		s.d = sqliteDialect{}
		registerSQLiteFuncs()
		s.w, s.r, s.ckpt, err = openSQLite(path)
	}
	if err != nil {
		return nil, err
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(path string) (w, r *sql.DB, ckpt *checkpointer, err error) {
	// busy_timeout first, so that even setting WAL waits for a lock instead of failing.
	pragmas := "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=mmap_size(1073741824)&_pragma=temp_store(2)"
	// The writer keeps a large page cache (128 MiB): a batch touches many index pages.
	// Checkpoints run beside the writes, not inside a commit (see checkpoint.go).
	w, err = sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-131072)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return nil, nil, nil, err
	}
	w.SetMaxOpenConns(1) // SQLite has one writer; queueing here beats SQLITE_BUSY
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err = sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, nil, nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	if ckpt, err = startCheckpointer(path, pragmas); err != nil {
		w.Close()
		r.Close()
		return nil, nil, nil, err
	}
	return w, r, ckpt, nil
}

// Migrate applies the embedded migrations of the store's engine; it is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+s.d.name())
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(s.d.gooseDialect(), s.w, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Engine names the database engine: "sqlite" or "postgres".
func (s *Store) Engine() string { return s.d.name() }

// DB returns the writer handle, for adapters (such as a job queue) that share the database.
func (s *Store) DB() *sql.DB { return s.w }

// Close closes the database handles.
func (s *Store) Close() error {
	s.stopCommitters()
	s.hot.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	s.readStmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	var err error
	if s.r != nil && s.r != s.w {
		err = s.r.Close()
	}
	if s.w != nil {
		if e := s.w.Close(); e != nil {
			err = e
		}
	}
	if s.ckpt != nil {
		s.ckpt.close()
	}
	return err
}

// q returns query text with ? placeholders rewritten for the store's dialect.
func (s *Store) q(query string) string {
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	out := s.d.rebind(query)
	s.queries.Store(query, out)
	return out
}

// maxHot bounds the statements kept prepared on the SQLite writer.
const maxHot = 200

// prepareWanted prepares, on the SQLite writer and outside any transaction, the statements
// transactions asked for, so that later transactions reuse them.
func (s *Store) prepareWanted(ctx context.Context) {
	s.wanted.Range(func(k, _ any) bool {
		s.wanted.Delete(k)
		if s.hotCount >= maxHot {
			return false
		}
		if st, err := s.w.PrepareContext(ctx, k.(string)); err == nil {
			if _, loaded := s.hot.LoadOrStore(k, st); loaded {
				st.Close()
			} else {
				s.hotCount++
			}
		}
		return true
	})
}

func (s *Store) newID(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	return prefix + hex.EncodeToString(b)
}

// newEntityID returns a cio_id (prefix "") or cio_object_id (prefix "ob"): the creation time in
// milliseconds (6 bytes) then 6 random bytes, in hex. Time-ordered ids are inserted at the end of
// their unique index instead of on a random page of it, so a large write dirties a few index
// pages instead of one per row; the random half keeps ids made in the same millisecond, by one
// process or several, apart.
func (s *Store) newEntityID(prefix string) string {
	var b [12]byte
	ms := uint64(s.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := io.ReadFull(s.Rand, b[6:]); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	return prefix + hex.EncodeToString(b[:])
}

func (s *Store) now() int64 { return s.Now().Unix() }
