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
//
// Concurrent calls for one workspace are committed together (group commit, see group.go), so
// the cost of a transaction is shared by every request waiting for one.
func (s *Store) Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error) {
	return s.apply(ctx, ws, false, ops)
}

// ApplyQuiet is Apply with triggers off: its change records are marked Quiet, so journeys do
// not start from them (a large import can ask for that); segments still follow them.
func (s *Store) ApplyQuiet(ctx context.Context, ws int64, ops []herald.Op) ([]error, error) {
	return s.apply(ctx, ws, true, ops)
}

func (s *Store) apply(ctx context.Context, ws int64, quiet bool, ops []herald.Op) ([]error, error) {
	errs := make([]error, len(ops))
	failed := make([]bool, len(ops)) // failed validation or a previous attempt
	valid := 0
	for i, op := range ops {
		if err := op.Validate(); err != nil {
			errs[i], failed[i] = err, true
		} else {
			valid++
		}
	}
	if valid == 0 {
		return errs, nil
	}
	return errs, s.commit(ctx, ws, quiet, ops, errs, failed)
}

// applyBatch applies ops (skipping the failed ones) in one transaction, re-running it without
// any op that failed after it had begun to write. errs and failed are updated in place.
func (s *Store) applyBatch(ctx context.Context, ws int64, quiet bool, ops []herald.Op, errs []error, failed []bool) error {
	baseErrs, baseFailed := make([]error, len(ops)), make([]bool, len(ops))
	for attempt := 0; attempt < maxAttempts+len(ops); attempt++ {
		var rerun bool
		var last *writer // the attempt that committed
		copy(baseErrs, errs)
		copy(baseFailed, failed)
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			// A re-run after a conflict with a concurrent transaction starts from what was
			// known before this attempt, not from what the aborted attempt concluded.
			copy(errs, baseErrs)
			copy(failed, baseFailed)
			w := s.newWriter(ctx, tx, ws)
			w.quiet = quiet
			if err := w.prefetch(ops, failed); err != nil {
				return fmt.Errorf("prefetch: %w", err)
			}
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
			if err := w.flushRows(); err != nil {
				return err
			}
			if err := w.flushMembers(); err != nil {
				return err
			}
			if err := w.flush(); err != nil {
				return err
			}
			last = w
			return nil
		})
		if err == nil && last != nil {
			for table, n := range last.inserted {
				s.noteInserted(table, n)
			}
			s.noteInserted("changes", len(last.changes))
			if len(last.changes) > 0 {
				s.signal()
			}
		}
		if errors.Is(err, errRerun) && rerun {
			for i := range errs { // errors found in the aborted attempt are found again
				if !failed[i] {
					errs[i] = nil
				}
			}
			continue
		}
		s.prepareWanted(ctx)
		if err != nil {
			return fmt.Errorf("apply %d ops: %w", len(ops), err)
		}
		return nil
	}
	return fmt.Errorf("apply %d ops: too many attempts", len(ops))
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
	st      *state
	quiet   bool // changes are recorded with triggers off
	changes []pendingChange
	mutated bool // the current op has changed state or written something
	stmts   map[string]*txStmt

	members      map[memberKey]bool // segment memberships as this transaction sees them
	memberWrites []memberWrite      // membership rows to write after flushRows

	nextPersonPK, nextObjectPK, nextChangeSeq int64          // SQLite key allocation (see dialect.allocate)
	inserted                                  map[string]int // rows inserted per table, for the analyzer
}

// pendingChange is a change record whose person may not have its key yet.
type pendingChange struct {
	c herald.Change
	p *personRow
}

func (s *Store) newWriter(ctx context.Context, tx *sql.Tx, ws int64) *writer {
	return &writer{s: s, ctx: ctx, tx: tx, ws: ws, now: s.now(), st: newState(), inserted: map[string]int{}, members: map[memberKey]bool{}}
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
	case *herald.AliasPerson:
		return w.aliasPerson(op)
	case *herald.SegmentMembership:
		return w.segmentMembership(op)
	case *herald.QueueDelivery:
		return w.queueDelivery(op)
	case *herald.DeliveryMetric:
		return w.deliveryMetric(op)
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

// conn returns query as a statement of this transaction. On SQLite, where parsing SQL is a
// large share of a write's cost, statements are prepared once on the writer connection and
// reused by every transaction (see prepareWanted); pgx caches statements itself.
func (w *writer) conn(query string) *txStmt {
	if st, ok := w.stmts[query]; ok {
		return st
	}
	st := &txStmt{w: w, text: w.s.q(query)}
	if w.s.d.name() == "sqlite" {
		if hot, ok := w.s.hot.Load(st.text); ok {
			st.stmt = w.tx.StmtContext(w.ctx, hot.(*sql.Stmt))
		} else if prepared, err := w.tx.PrepareContext(w.ctx, st.text); err == nil {
			st.stmt = prepared // closed with the transaction
			w.s.wanted.Store(st.text, true)
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

// record queues a change record about person p (nil for none); flush writes them all at the
// end of the transaction.
func (w *writer) record(p *personRow, c herald.Change) {
	c.WorkspaceID, c.Quiet = w.ws, w.quiet
	if c.Timestamp == 0 {
		c.Timestamp = w.now
	}
	if p != nil {
		c.Customer = p.identifiers()
	}
	w.changes = append(w.changes, pendingChange{c: c, p: p})
}

func (w *writer) personChange(typ string, p *personRow, data json.RawMessage) {
	w.record(p, herald.Change{Type: typ, Data: data})
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
	changes := make([]herald.Change, len(w.changes))
	for i, pc := range w.changes {
		changes[i] = pc.c
		if pc.p != nil {
			changes[i].PersonPK = pc.p.pk
		}
	}
	for start := 0; start < len(changes); start += changeBatch {
		end := min(start+changeBatch, len(changes))
		if err := w.insertChanges(changes[start:end]); err != nil {
			return err
		}
	}
	if w.s.AfterWrite != nil {
		return w.s.AfterWrite(w.ctx, w.tx, changes)
	}
	return nil
}

func (w *writer) insertChanges(cs []herald.Change) error {
	if w.s.d.name() == "sqlite" {
		return w.insertChangesOneByOne(cs)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO changes (workspace_id, type, timestamp, person_pk, customer, object_type_id, object_id, cio_object_id, name, quiet, data) VALUES ")
	args := make([]any, 0, len(cs)*10)
	for i := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, changeArgs(&cs[i])...)
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

// insertChangesOneByOne writes changes through prepared statements (see execPrepared), with
// sequence numbers allocated here.
func (w *writer) insertChangesOneByOne(cs []herald.Change) error {
	seqs, err := w.s.d.allocate(w, "changes", len(cs), &w.nextChangeSeq)
	if err != nil {
		return fmt.Errorf("allocate change sequence: %w", err)
	}
	for i := range cs {
		cs[i].Seq = seqs[i]
	}
	return w.execPrepared(`INSERT INTO changes (seq, workspace_id, type, timestamp, person_pk, customer, object_type_id, object_id, cio_object_id, name, quiet, data) VALUES `,
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 12, len(cs), func(i int) []any {
			return append([]any{seqs[i]}, changeArgs(&cs[i])...)
		})
}

func changeArgs(c *herald.Change) []any {
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
	return []any{c.WorkspaceID, c.Type, c.Timestamp, person, customer, typeID, objectID, cioObjectID, nullString(c.Name), c.Quiet, data}
}
