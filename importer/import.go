package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Writer is the write path an import goes through.
type Writer interface {
	Apply(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
	ApplyQuiet(ctx context.Context, ws int64, ops []herald.Op) ([]error, error)
}

// Kind is what a file holds.
type Kind string

// Import kinds.
const (
	People        Kind = "people"
	Objects       Kind = "objects"
	Relationships Kind = "relationships"
)

// Options say how to read a file.
type Options struct {
	Kind Kind
	// TypeID is the object type of an objects file, and the default type of a relationships
	// file without an object_type_id column.
	TypeID int
	// Identifier names the column that identifies people: id or email (people files), id,
	// email or cio_id (relationships files). Default: the first of those the file has.
	Identifier string
	// DataToProcess is all (default), only_new or only_existing.
	DataToProcess string
	// Hints type columns: number, boolean, or timestamp (ISO 8601, unix seconds, or
	// "timestamp:<Go layout>"); other columns stay strings, as Customer.io stores them.
	Hints map[string]string
	// BatchSize is the rows per write transaction. Default 25,000: a random index (an object
	// per relationship row, say) is rewritten page by page at each commit, so the larger the
	// transaction, the fewer times each page is written; 25,000 rows hold the writer for about
	// a second.
	BatchSize int
	// Progress, when set, is called after each batch with the rows read so far.
	Progress func(rows int)
	// NoTriggers writes with triggers off: the rows update people, objects and segments but
	// start no journeys. By default an import fires triggers row by row, as Customer.io does.
	NoTriggers bool
}

// RowError is a refused row.
type RowError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Summary counts what an import did.
type Summary struct {
	Rows      int        `json:"rows"`
	Created   int        `json:"created"`
	Updated   int        `json:"updated"`
	Unchanged int        `json:"unchanged"`
	Skipped   int        `json:"skipped"`
	Failed    int        `json:"failed"`
	Errors    []RowError `json:"errors"`
}

func (s Summary) String() string {
	return fmt.Sprintf("%d rows read: %d created, %d updated, %d unchanged, %d skipped, %d failed",
		s.Rows, s.Created, s.Updated, s.Unchanged, s.Skipped, s.Failed)
}

// Import reads in and applies it to workspace ws. Refused rows are counted and listed and the
// rest go on; the error return is for a file that cannot be imported at all (no header, a
// required column missing, a store fault).
func Import(ctx context.Context, w Writer, ws int64, in io.Reader, opts Options) (Summary, error) {
	var sum Summary
	t, err := newTable(in)
	if err != nil {
		return sum, err
	}
	m, err := newMapper(t, opts)
	if err != nil {
		return sum, err
	}
	size := opts.BatchSize
	if size <= 0 {
		size = 25000
	}
	var ops []herald.Op
	var lines []int
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		apply := w.Apply
		if opts.NoTriggers {
			apply = w.ApplyQuiet
		}
		errs, err := apply(ctx, ws, ops)
		if err != nil {
			return err
		}
		for i, op := range ops {
			if errs[i] != nil {
				sum.fail(lines[i], errs[i].Error())
				continue
			}
			sum.count(op, lines[i])
		}
		ops, lines = ops[:0], lines[:0]
		if opts.Progress != nil {
			opts.Progress(sum.Rows)
		}
		return nil
	}
	for {
		rec, err := t.next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if asRowError(err, &re) {
			sum.Rows++
			sum.fail(re.Line, re.Reason)
			continue
		}
		if err != nil {
			return sum, fmt.Errorf("read line %d: %w", rec.line, err)
		}
		sum.Rows++
		op, err := m.op(rec)
		if op == nil && err == nil {
			sum.Rows-- // a row of empty cells is a blank line
			continue
		}
		if err != nil {
			sum.fail(rec.line, err.Error())
			continue
		}
		ops, lines = append(ops, op), append(lines, rec.line)
		if len(ops) >= size {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	err = flush()
	sum.Errors = sortedErrors(sum.Errors)
	return sum, err
}

func asRowError(err error, re **RowError) bool {
	e, ok := err.(*RowError)
	if ok {
		*re = e
	}
	return ok
}

func (s *Summary) fail(line int, reason string) {
	s.Failed++
	s.Errors = append(s.Errors, RowError{Line: line, Reason: reason})
}

func (s *Summary) count(op herald.Op, line int) {
	var r herald.Result
	switch op := op.(type) {
	case *herald.IdentifyPerson:
		r = op.Result
	case *herald.IdentifyObject:
		r = op.Result
	case *herald.PersonRelationships:
		r = op.Result
	}
	switch r.Outcome {
	case herald.OutcomeCreated:
		s.Created++
	case herald.OutcomeUpdated:
		s.Updated++
	case herald.OutcomeSkipped:
		s.Skipped++
	case herald.OutcomeRefused:
		s.fail(line, r.Reason)
	default:
		s.Unchanged++
	}
}

// mapper turns rows into ops for one file.
type mapper struct {
	opts     Options
	header   []string
	idCol    int // the person identifier or object_id column
	idKind   herald.IdentifierKind
	typeCol  int // relationships: object_type_id column, or -1
	objCol   int // relationships: object_id column
	skipCols map[int]bool
	hints    map[int]hint
}

func newMapper(t *table, opts Options) (*mapper, error) {
	m := &mapper{opts: opts, header: t.header, typeCol: -1, objCol: -1, skipCols: map[int]bool{}, hints: map[int]hint{}}
	switch opts.DataToProcess {
	case "", "all", "only_new", "only_existing":
	default:
		return nil, herald.Errorf(herald.Invalid, "data_to_process", "must be all, only_new or only_existing, got %q", opts.DataToProcess)
	}
	for col, spec := range opts.Hints {
		i := t.column(col)
		if i < 0 {
			return nil, herald.Errorf(herald.Invalid, "hints", "the file has no column %q", col)
		}
		h, err := parseHint(spec)
		if err != nil {
			return nil, herald.WithField(err, "hints."+col)
		}
		m.hints[i] = h
	}
	personColumn := func(allowed ...string) error {
		names := allowed
		if opts.Identifier != "" {
			ok := false
			for _, a := range allowed {
				ok = ok || a == opts.Identifier
			}
			if !ok {
				return herald.Errorf(herald.Invalid, "identifier", "must be one of %s", strings.Join(allowed, ", "))
			}
			names = []string{opts.Identifier}
		}
		for _, n := range names {
			if i := t.column(n); i >= 0 {
				m.idCol, m.idKind = i, herald.IdentifierKind(n)
				return nil
			}
		}
		return herald.Errorf(herald.Required, "header", "the file needs a %s column to identify people", strings.Join(names, " or "))
	}
	switch opts.Kind {
	case People:
		if err := personColumn("id", "email"); err != nil {
			return nil, err
		}
	case Objects:
		if opts.TypeID <= 0 {
			return nil, herald.Errorf(herald.Required, "type", "an objects import needs the object type")
		}
		if m.idCol = t.column("object_id"); m.idCol < 0 {
			return nil, herald.Errorf(herald.Required, "header", "an objects file needs an object_id column")
		}
		m.skipCols[m.idCol] = true
	case Relationships:
		if err := personColumn("id", "email", "cio_id"); err != nil {
			return nil, err
		}
		m.skipCols[m.idCol] = true
		if m.objCol = t.column("object_id"); m.objCol < 0 {
			return nil, herald.Errorf(herald.Required, "header", "a relationships file needs an object_id column")
		}
		m.skipCols[m.objCol] = true
		if m.typeCol = t.column("object_type_id"); m.typeCol >= 0 {
			m.skipCols[m.typeCol] = true
		} else if opts.TypeID <= 0 {
			return nil, herald.Errorf(herald.Required, "header", "a relationships file needs an object_type_id column (or give the type)")
		}
	default:
		return nil, herald.Errorf(herald.Invalid, "type", "must be people, objects or relationships, got %q", opts.Kind)
	}
	return m, nil
}

// attributes maps the row's other non-empty cells; empty cells leave attributes alone.
func (m *mapper) attributes(rec record) (herald.Attributes, error) {
	a := herald.Attributes{}
	for i, v := range rec.fields {
		if m.skipCols[i] || strings.TrimSpace(v) == "" {
			continue
		}
		raw, err := m.hints[i].value(v)
		if err != nil {
			return nil, fmt.Errorf("column %s: %v", m.header[i], err)
		}
		a[m.header[i]] = raw
	}
	return a, nil
}

func (m *mapper) op(rec record) (herald.Op, error) {
	empty := true
	for _, f := range rec.fields {
		empty = empty && strings.TrimSpace(f) == ""
	}
	if empty {
		return nil, nil
	}
	id := strings.TrimSpace(rec.fields[m.idCol])
	if id == "" {
		return nil, fmt.Errorf("the %s column is empty", m.header[m.idCol])
	}
	attrs, err := m.attributes(rec)
	if err != nil {
		return nil, err
	}
	var op herald.Op
	switch m.opts.Kind {
	case People:
		delete(attrs, string(m.idKind))
		op = &herald.IdentifyPerson{Ref: herald.PersonRef{Kind: m.idKind, Value: id}, Attributes: attrs,
			UpdateOnly: m.opts.DataToProcess == "only_existing", CreateOnly: m.opts.DataToProcess == "only_new"}
	case Objects:
		op = &herald.IdentifyObject{Ref: herald.ObjectRef{TypeID: m.opts.TypeID, ObjectID: id}, Attributes: attrs,
			UpdateOnly: m.opts.DataToProcess == "only_existing", CreateOnly: m.opts.DataToProcess == "only_new"}
	default:
		typeID := m.opts.TypeID
		if m.typeCol >= 0 {
			if typeID, err = strconv.Atoi(strings.TrimSpace(rec.fields[m.typeCol])); err != nil || typeID <= 0 {
				return nil, fmt.Errorf("object_type_id %q is not a type id", rec.fields[m.typeCol])
			}
		}
		objectID := strings.TrimSpace(rec.fields[m.objCol])
		if objectID == "" {
			return nil, fmt.Errorf("the object_id column is empty")
		}
		op = &herald.PersonRelationships{Ref: herald.PersonRef{Kind: m.idKind, Value: id},
			Items: []herald.PersonRelationship{{Object: herald.ObjectRef{TypeID: typeID, ObjectID: objectID}, Attributes: attrs}}}
	}
	if err := op.Validate(); err != nil {
		return nil, err
	}
	return op, nil
}

// hint converts a cell; the zero hint keeps strings.
type hint struct {
	kind   string // "", number, boolean, timestamp
	layout string // timestamp layout; "" for ISO 8601 or unix
}

func parseHint(spec string) (hint, error) {
	kind, layout, _ := strings.Cut(spec, ":")
	switch kind {
	case "string", "number", "boolean":
		return hint{kind: kind}, nil
	case "timestamp":
		return hint{kind: kind, layout: layout}, nil
	}
	return hint{}, herald.Errorf(herald.Invalid, "", "unknown type %q; use string, number, boolean or timestamp[:layout]", spec)
}

func (h hint) value(v string) (json.RawMessage, error) {
	v = strings.TrimSpace(v)
	switch h.kind {
	case "number":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return json.RawMessage(strconv.FormatFloat(f, 'f', -1, 64)), nil
	case "boolean":
		switch strings.ToLower(v) {
		case "true", "yes", "1", "y":
			return json.RawMessage("true"), nil
		case "false", "no", "0", "n":
			return json.RawMessage("false"), nil
		}
		return nil, fmt.Errorf("%q is not a boolean", v)
	case "timestamp":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && h.layout == "" {
			return json.RawMessage(strconv.FormatInt(n, 10)), nil
		}
		layouts := []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"}
		if h.layout != "" {
			layouts = []string{h.layout}
		}
		for _, l := range layouts {
			if t, err := time.Parse(l, v); err == nil {
				return json.RawMessage(strconv.FormatInt(t.Unix(), 10)), nil
			}
		}
		return nil, fmt.Errorf("%q is not a timestamp", v)
	}
	return herald.JSONString(v), nil
}

// sortedErrors orders row errors by line.
func sortedErrors(errs []RowError) []RowError {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}
