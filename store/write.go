package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald"
)

// errRerun aborts a transaction attempt whose op failed after it had begun to write; the batch
// is re-run without that op, so that a failed op never leaves half its effects behind.
var errRerun = errors.New("re-run batch without a failed op")

// Apply is Herald's one write path. It validates ops, then in one transaction applies them,
// computes attribute diffs, appends change records and runs AfterWrite. The result has one
// entry per op: nil when it was applied (or, as in Customer.io, silently ignored), or the
// *herald.Error that made it change nothing. The error return is for faults that stopped the
// whole write; when it is nil the applied ops are durable.
func (s *Store) Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error) {
	errs := make([]error, len(ops))
	failed := make([]bool, len(ops)) // failed validation or a previous attempt
	for i, op := range ops {
		if err := op.Validate(); err != nil {
			errs[i], failed[i] = err, true
		}
	}
	for attempt := 0; attempt < maxAttempts+len(ops); attempt++ {
		var rerun bool
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			w := s.newWriter(ctx, tx, ws)
			for i, op := range ops {
				if failed[i] {
					continue
				}
				w.mutated = false
				mark := len(w.changes)
				err := w.apply(op)
				if err == nil {
					continue
				}
				w.changes = w.changes[:mark]
				if herald.ErrorCode(err) == herald.Internal {
					return err
				}
				errs[i] = err
				if w.mutated {
					failed[i], rerun = true, true
					return errRerun
				}
				failed[i] = true
			}
			return w.flush()
		})
		if errors.Is(err, errRerun) && rerun {
			for i := range errs { // errors found in the aborted attempt are found again
				if !failed[i] {
					errs[i] = nil
				}
			}
			continue
		}
		if err != nil {
			return errs, fmt.Errorf("apply %d ops: %w", len(ops), err)
		}
		return errs, nil
	}
	return errs, fmt.Errorf("apply %d ops: too many attempts", len(ops))
}

// ApplyOne applies a single op and returns its error, whether the op's or the write's.
func (s *Store) ApplyOne(ctx context.Context, ws int64, op herald.Op) error {
	errs, err := s.Apply(ctx, ws, []herald.Op{op})
	if err != nil {
		return err
	}
	return errs[0]
}

// writer is one attempt at one write transaction.
type writer struct {
	s       *Store
	ctx     context.Context
	tx      *sql.Tx
	ws      int64
	now     int64
	changes []herald.Change
	mutated bool // the current op has written something
	stmts   map[string]*txStmt
}

func (s *Store) newWriter(ctx context.Context, tx *sql.Tx, ws int64) *writer {
	return &writer{s: s, ctx: ctx, tx: tx, ws: ws, now: s.now()}
}

func (w *writer) apply(op herald.Op) error {
	switch op := op.(type) {
	case *herald.IdentifyPerson:
		return w.identifyPerson(op)
	case *herald.DeletePerson:
		return w.deletePerson(op.Ref)
	case *herald.TrackEvent:
		return w.trackEvent(op)
	case *herald.PersonRelationships:
		return w.personRelationships(op)
	case *herald.AddDevice:
		return w.addDevice(op)
	case *herald.DeleteDevice:
		return w.deleteDevice(op)
	case *herald.MergePeople:
		return w.mergePeople(op)
	case *herald.SuppressPerson:
		return w.suppressPerson(op)
	case *herald.IdentifyObject:
		return w.identifyObject(op)
	case *herald.DeleteObject:
		return w.deleteObject(op)
	case *herald.ObjectRelationships:
		return w.objectRelationships(op)
	default:
		return &herald.Error{Code: herald.Internal, Message: fmt.Sprintf("unknown op %T", op)}
	}
}

func (w *writer) exec(query string, args ...any) (sql.Result, error) {
	w.mutated = true
	return w.conn(query).ExecContext(w.ctx, args...)
}

func (w *writer) queryRow(query string, args ...any) *sql.Row {
	return w.conn(query).QueryRowContext(w.ctx, args...)
}

func (w *writer) query(query string, args ...any) (*sql.Rows, error) {
	return w.conn(query).QueryContext(w.ctx, args...)
}

// insertReturning runs an INSERT … RETURNING of one integer column.
func (w *writer) insertReturning(query string, args ...any) (int64, error) {
	w.mutated = true
	var id int64
	err := w.conn(query).QueryRowContext(w.ctx, args...).Scan(&id)
	return id, err
}

// conn returns query as a statement of this transaction, prepared once per transaction on
// SQLite, where parsing SQL is a large share of a write's cost (pgx caches statements itself).
func (w *writer) conn(query string) *txStmt {
	if st, ok := w.stmts[query]; ok {
		return st
	}
	st := &txStmt{w: w, text: w.s.q(query)}
	if w.s.d.name() == "sqlite" {
		if prepared, err := w.tx.PrepareContext(w.ctx, st.text); err == nil {
			st.stmt = prepared // closed with the transaction
		}
	}
	if w.stmts == nil {
		w.stmts = map[string]*txStmt{}
	}
	w.stmts[query] = st
	return st
}

// QueryRowContext lets the shared finders (findPerson, findObject …) use the writer's
// prepared statements.
func (w *writer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return w.conn(query).QueryRowContext(ctx, args...)
}

// QueryContext is QueryRowContext's many-row form.
func (w *writer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return w.conn(query).QueryContext(ctx, args...)
}

// txStmt runs one query in the writer's transaction, prepared when the engine benefits.
type txStmt struct {
	w    *writer
	text string
	stmt *sql.Stmt
}

func (t *txStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if t.stmt != nil {
		return t.stmt.ExecContext(ctx, args...)
	}
	return t.w.tx.ExecContext(ctx, t.text, args...)
}

func (t *txStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	if t.stmt != nil {
		return t.stmt.QueryRowContext(ctx, args...)
	}
	return t.w.tx.QueryRowContext(ctx, t.text, args...)
}

func (t *txStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	if t.stmt != nil {
		return t.stmt.QueryContext(ctx, args...)
	}
	return t.w.tx.QueryContext(ctx, t.text, args...)
}

// record queues a change record; flush writes them all at the end of the transaction.
func (w *writer) record(c herald.Change) {
	c.WorkspaceID = w.ws
	if c.Timestamp == 0 {
		c.Timestamp = w.now
	}
	w.changes = append(w.changes, c)
}

func (w *writer) personChange(typ string, p *personRow, data json.RawMessage) {
	w.record(herald.Change{Type: typ, PersonPK: p.pk, Customer: p.identifiers(), Data: data})
}

// changeBatch bounds the rows of one multi-row INSERT (SQLite allows 32766 parameters).
const changeBatch = 500

// flush appends the queued change records in commit order and runs the AfterWrite hook.
func (w *writer) flush() error {
	if len(w.changes) == 0 {
		return nil
	}
	if err := w.s.d.lockChanges(w.ctx, w.tx); err != nil {
		return fmt.Errorf("lock change log: %w", err)
	}
	for start := 0; start < len(w.changes); start += changeBatch {
		end := min(start+changeBatch, len(w.changes))
		if err := w.insertChanges(w.changes[start:end]); err != nil {
			return err
		}
	}
	if w.s.AfterWrite != nil {
		return w.s.AfterWrite(w.ctx, w.tx, w.changes)
	}
	return nil
}

func (w *writer) insertChanges(cs []herald.Change) error {
	var b strings.Builder
	b.WriteString("INSERT INTO changes (workspace_id, type, timestamp, person_pk, customer, object_type_id, object_id, cio_object_id, name, data) VALUES ")
	args := make([]any, 0, len(cs)*10)
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		var person, typeID sql.NullInt64
		var customer, objectID, cioObjectID, data sql.NullString
		if c.PersonPK != 0 {
			person = sql.NullInt64{Int64: c.PersonPK, Valid: true}
		}
		if c.Customer != nil {
			customer = sql.NullString{String: encodeJSON(c.Customer), Valid: true}
		}
		if c.Object != nil {
			typeID = sql.NullInt64{Int64: int64(c.Object.TypeID), Valid: true}
			objectID, cioObjectID = nullString(c.Object.ObjectID), nullString(c.Object.CioObjectID)
		}
		if len(c.Data) > 0 {
			data = sql.NullString{String: string(c.Data), Valid: true}
		}
		args = append(args, c.WorkspaceID, c.Type, c.Timestamp, person, customer, typeID, objectID, cioObjectID, nullString(c.Name), data)
	}
	b.WriteString(" RETURNING seq")
	rows, err := w.conn(b.String()).QueryContext(w.ctx, args...)
	if err != nil {
		return fmt.Errorf("insert changes: %w", err)
	}
	defer rows.Close()
	for i := 0; rows.Next(); i++ {
		if err := rows.Scan(&cs[i].Seq); err != nil {
			return err
		}
	}
	return rows.Err()
}
