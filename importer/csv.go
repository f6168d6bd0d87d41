// Package importer imports people, objects and relationships from CSV files through Herald's
// write path, reporting every refused row with its line number and reason.
package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/heraldhq/herald"
)

// table reads a CSV file whose delimiter (comma, semicolon or tab) is detected from the
// header; it tolerates a UTF-8 byte-order mark, CRLF line ends, quoted fields with newlines
// and blank lines, and refuses empty or duplicate headers.
type table struct {
	header []string
	r      *csv.Reader
}

// record is one data row and the line it starts on.
type record struct {
	line   int
	fields []string
}

func newTable(in io.Reader) (*table, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	first, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read the header: %w", err)
	}
	r := csv.NewReader(br)
	r.Comma = detectDelimiter(first)
	r.FieldsPerRecord = -1 // rows with a wrong field count are reported, not fatal
	r.ReuseRecord = false
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, herald.Errorf(herald.Invalid, "file", "is empty: the first line must name the columns")
	}
	if err != nil {
		return nil, herald.Errorf(herald.Invalid, "file", "the header cannot be read: %v", err)
	}
	seen := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if h == "" {
			return nil, herald.Errorf(herald.Invalid, "header", "column %d has no name", i+1)
		}
		if j, dup := seen[strings.ToLower(h)]; dup {
			return nil, herald.Errorf(herald.Invalid, "header", "column %q appears twice (columns %d and %d)", h, j+1, i+1)
		}
		seen[strings.ToLower(h)] = i
	}
	return &table{header: header, r: r}, nil
}

// detectDelimiter picks the candidate that occurs most often, outside quotes, in the first line.
func detectDelimiter(head []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(head) {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' || c == '\r' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// next returns the next row, or io.EOF. A malformed row comes back as a *rowError so the
// import can go on.
func (t *table) next() (record, error) {
	fields, err := t.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return record{line: pe.StartLine}, &RowError{Line: pe.StartLine, Reason: pe.Err.Error()}
		}
		return record{}, err
	}
	line, _ := t.r.FieldPos(0)
	if len(fields) != len(t.header) {
		return record{line: line}, &RowError{Line: line, Reason: fmt.Sprintf("has %d fields; the header has %d", len(fields), len(t.header))}
	}
	return record{line: line, fields: fields}, nil
}

// column returns the index of name (case-insensitive), or -1.
func (t *table) column(name string) int {
	for i, h := range t.header {
		if strings.EqualFold(h, name) {
			return i
		}
	}
	return -1
}
