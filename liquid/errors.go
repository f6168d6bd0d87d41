package liquid

import (
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/render"
)

// Kind classifies a template failure.
type Kind string

// Kinds of template failure.
const (
	SyntaxFailure  Kind = "syntax"  // the template does not parse
	MissingFailure Kind = "missing" // the template references a variable the context lacks
	LimitFailure   Kind = "limit"   // rendering went over a time, size or object limit
	RenderFailure  Kind = "render"  // a filter or tag failed (wrong argument, bad input)
)

// Error is a template failure the delivery layer can show to the person who wrote the
// template. It unwraps to a *herald.Error, so herald.ErrorCode and herald.AsError work on it.
type Error struct {
	Kind     Kind
	Field    string // the message field rendered ("subject", "body"), when known
	Line     int    // 1-based line in the template; 0 when unknown
	Variable string // for MissingFailure: the variable path, e.g. "customer.first_name"
	Limit    string // for LimitFailure: "timeout", "output", "objects.<plural_slug>", "snippets"
	Message  string // what went wrong, without field or line
}

// Error formats the failure as "field: line n: message", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the failure as a *herald.Error: Invalid for syntax, missing variables and
// render failures; TooLarge for limits.
func (e *Error) Unwrap() error {
	code := herald.Invalid
	if e.Kind == LimitFailure {
		code = herald.TooLarge
	}
	msg := e.Message
	if e.Line > 0 {
		msg = fmt.Sprintf("line %d: %s", e.Line, msg)
	}
	return &herald.Error{Code: code, Field: e.Field, Message: msg}
}

func missingError(path string) *Error {
	return &Error{Kind: MissingFailure, Variable: path,
		Message: fmt.Sprintf("undefined variable %q (use | default: to make it optional)", path)}
}

func limitError(limit, msg string) *Error {
	return &Error{Kind: LimitFailure, Limit: limit, Message: msg}
}

func renderErrorf(format string, args ...any) *Error {
	return &Error{Kind: RenderFailure, Message: fmt.Sprintf(format, args...)}
}

// fromParse converts a parse failure into an *Error with its line.
func fromParse(err error) (e *Error) {
	defer func() { e.Message = strings.ReplaceAll(e.Message, leniencyClause, "") }()
	e = &Error{Kind: SyntaxFailure, Message: err.Error()}
	var se interface {
		LineNumber() int
		Cause() error
	}
	if errors.As(err, &se) {
		e.Line = se.LineNumber()
		if c := se.Cause(); c != nil {
			e.Message = c.Error()
		} else {
			e.Message = trimLocation(err.Error())
		}
	}
	return e
}

// fromRender converts a failure osteele returned into an *Error, preferring what the state
// recorded (which names the variable or the limit) and taking the line from either.
func fromRender(st *state, err error, src string) *Error {
	line := 0
	var re render.Error
	if errors.As(err, &re) {
		line = re.LineNumber()
	}
	if st.err != nil {
		e := *st.err
		if e.Kind == MissingFailure {
			// The failure surfaced where the value was written, possibly later than where it
			// was referenced: prefer the line that spells the variable out.
			if l := lineOf(src, e.Variable); l > 0 {
				line = l
			}
		}
		if e.Line == 0 {
			e.Line = line
		}
		return &e
	}
	if err == nil {
		return nil
	}
	var fe expressions.FilterError
	if errors.As(err, &fe) {
		var le *Error
		if errors.As(fe.Err, &le) {
			e := *le
			e.Line = line
			return &e
		}
		return &Error{Kind: RenderFailure, Line: line, Message: fmt.Sprintf("filter %s: %v", fe.FilterName, fe.Err)}
	}
	msg := err.Error()
	if re != nil {
		if c := re.Cause(); c != nil {
			msg = c.Error()
		} else {
			msg = trimLocation(msg)
		}
	}
	return &Error{Kind: RenderFailure, Line: line, Message: strings.ReplaceAll(msg, leniencyClause, "")}
}

// trimLocation removes osteele's "Liquid error (line n): " prefix and " in {{ … }}" suffix.
func trimLocation(msg string) string {
	if i := strings.Index(msg, "): "); strings.HasPrefix(msg, "Liquid") && i > 0 {
		msg = msg[i+3:]
	}
	if i := strings.LastIndex(msg, " in "); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// lineOf returns the 1-based line of the first occurrence of path in src, or 0.
func lineOf(src, path string) int {
	i := strings.Index(src, path)
	if i < 0 {
		// objects.x[0].name may be written objects.x.first.name: fall back to the root.
		root, _, _ := strings.Cut(path, "[")
		if i = strings.Index(src, root); i < 0 || root == "" {
			return 0
		}
	}
	return strings.Count(src[:i], "\n") + 1
}
