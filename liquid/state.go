package liquid

import (
	"context"
	"fmt"
	"time"
)

// stateKey is the binding under which a render's state travels to tags. Liquid identifiers
// cannot contain a NUL byte, so a template can neither read nor overwrite it.
const stateKey = "\x00herald"

// checkEvery is how many operations pass between two clock reads: reading the clock on every
// variable access would cost more than the access itself.
const checkEvery = 32

// state is what one render carries besides the bindings: the limits it must stay within,
// the first failure, and the engine for snippets. It is used by one goroutine.
type state struct {
	ctx      context.Context
	engine   *Engine
	c        *Context
	deadline time.Time
	timeout  time.Duration
	maxBytes int
	depth    int // snippet nesting
	ops      int
	err      *Error // first failure; the render reports it whatever osteele returns
}

// abort is the panic value that unwinds a render from inside a value method, which cannot
// return an error. It is not an error, so osteele's recover re-panics it untouched.
type abort struct{}

// fail records err as the render's failure unless one is already recorded, and returns the
// recorded one.
func (s *state) fail(err *Error) *Error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// stop records err and unwinds the render.
func (s *state) stop(err *Error) {
	s.fail(err)
	panic(abort{})
}

// check reports a failure once the deadline has passed or the context is done; it reads the
// clock only every checkEvery calls.
func (s *state) check() *Error {
	if s.err != nil {
		return s.err
	}
	s.ops++
	if s.ops%checkEvery != 0 {
		return nil
	}
	return s.checkNow()
}

func (s *state) checkNow() *Error {
	if err := s.ctx.Err(); err != nil {
		return s.fail(limitError("timeout", fmt.Sprintf("rendering was stopped: %v", err)))
	}
	if time.Now().After(s.deadline) {
		return s.fail(limitError("timeout", fmt.Sprintf("rendering took longer than the %v limit", s.timeout)))
	}
	return nil
}

// mustCheck is check for value methods: it unwinds instead of returning.
func (s *state) mustCheck() {
	if err := s.check(); err != nil {
		panic(abort{})
	}
}

// sizeError is the failure for output over the byte limit.
func (s *state) sizeError() *Error {
	return limitError("output", fmt.Sprintf("rendered output is over the %d-byte limit", s.maxBytes))
}

// limitWriter collects output up to max bytes and checks the deadline on every write; the
// engine renders into one, and so does capture.
type limitWriter struct {
	st  *state
	buf []byte
	max int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if err := w.st.check(); err != nil {
		return 0, err
	}
	if len(w.buf)+len(p) > w.max {
		return 0, w.st.fail(w.st.sizeError())
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *limitWriter) WriteString(p string) (int, error) {
	if err := w.st.check(); err != nil {
		return 0, err
	}
	if len(w.buf)+len(p) > w.max {
		return 0, w.st.fail(w.st.sizeError())
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
