package store

import (
	"context"
	"database/sql"
	"time"
)

// SQLite copies the WAL back into the database file (a checkpoint) every 1000 pages by default,
// inside whichever commit crosses the mark: on Herald's one writer that stalls every write
// waiting behind it. The writer connection turns automatic checkpoints off, and this
// goroutine runs passive ones on a connection of its own, alongside the writes.

// checkpointEvery is how often the WAL is copied back.
const checkpointEvery = 500 * time.Millisecond

type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(path, pragmas string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}()
	return c, nil
}

// close stops the goroutine and truncates the WAL, so a stopped Herald leaves one file.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
	c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
	c.db.Close()
}
