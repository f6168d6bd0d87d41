package liquid

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/osteele/liquid"
	"github.com/osteele/liquid/render"
)

// Options configure an Engine; zero fields take the documented defaults.
type Options struct {
	// Timeout bounds one Render (and each field of RenderFields). Default 1s. A deadline on
	// the context passed to Render also applies.
	Timeout time.Duration
	// MaxOutput bounds the bytes one render produces, and any string it builds. Default 1 MiB.
	MaxOutput int
	// MaxObjects bounds objects.<slug>: a type with more related objects fails the render with
	// a LimitFailure naming it, rather than being cut short. Default 1000.
	MaxObjects int
	// CacheSize is how many parsed templates the engine keeps, least recently used first out.
	// Default 1024.
	CacheSize int
	// NewUUID makes {% generate_uuid %}; default github.com/google/uuid's random UUIDs.
	NewUUID func() string
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = 1 << 20
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = 1000
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 1024
	}
	if o.NewUUID == nil {
		o.NewUUID = uuid.NewString
	}
	return o
}

// Engine parses, caches and renders templates. It is safe for concurrent use.
type Engine struct {
	opts  Options
	lq    *liquid.Engine
	cache *cache
	tick  render.Node       // inserted at the start of every loop body
	capt  *render.BlockNode // donor for bounded {% capture %} nodes
}

// New returns an Engine with opts.
func New(opts Options) *Engine {
	e := &Engine{opts: opts.withDefaults()}
	e.lq = liquid.NewEngine()
	e.lq.UnregisterTag("include") // reads files; snippets are the way to share fragments
	e.lq.UnregisterTag("render")
	e.lq.RegisterTemplateStore(noFiles{})
	registerFilters(e.lq, e.opts.MaxOutput)
	registerTags(e.lq)
	e.cache = newCache(e.opts.CacheSize)
	e.tick = e.donor("{% " + tickTag + " %}")
	e.capt = e.donor("{% " + captureTag + " x %}{% end" + captureTag + " %}").(*render.BlockNode)
	return e
}

// donor compiles a one-node template and returns the node.
func (e *Engine) donor(src string) render.Node {
	t, err := e.lq.ParseString(src)
	if err != nil {
		panic(err)
	}
	if seq, ok := t.GetRoot().(*render.SeqNode); ok && len(seq.Children) == 1 {
		return seq.Children[0]
	}
	return t.GetRoot()
}

// Parse parses src, or returns the cached parse; it reports syntax errors with their line.
// Render calls it; call it directly to validate a template when it is saved.
func (e *Engine) Parse(src string) error {
	_, err := e.parse(src)
	if err != nil {
		return err
	}
	return nil
}

func (e *Engine) parse(src string) (*liquid.Template, *Error) {
	if t, err, ok := e.cache.get(src); ok {
		return t, err
	}
	t, err := e.compile(src)
	e.cache.put(src, t, err)
	return t, err
}

// compile parses src; osteele panics on some malformed input, which is a syntax error too.
func (e *Engine) compile(src string) (t *liquid.Template, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &Error{Kind: SyntaxFailure, Message: fmt.Sprint(r)}
		}
	}()
	t, perr := e.lq.ParseTemplateLocation([]byte(lenientConditions(src)), "", 1)
	if perr != nil {
		return nil, fromParse(perr)
	}
	e.instrument(t.GetRoot())
	return t, nil
}

// Render renders src against c. A failure is an *Error (which unwraps to a *herald.Error).
func (e *Engine) Render(ctx context.Context, src string, c *Context) (string, error) {
	st := e.newState(ctx, c)
	out, err := e.renderWith(st, src, 0)
	if err != nil {
		return "", err
	}
	return out, nil
}

// RenderFields renders the fields of one message (subject, body, preheader …) against c and
// returns them under the same names. It stops at the first failure, in field-name order, and
// names the field in the error. Objects are loaded once for all fields.
func (e *Engine) RenderFields(ctx context.Context, fields map[string]string, c *Context) (map[string]string, error) {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]string, len(fields))
	for _, name := range names {
		s, err := e.Render(ctx, fields[name], c)
		if err != nil {
			le := *err.(*Error)
			le.Field = name
			return nil, &le
		}
		out[name] = s
	}
	return out, nil
}

func (e *Engine) newState(ctx context.Context, c *Context) *state {
	if c == nil {
		c = &Context{}
	}
	deadline := time.Now().Add(e.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return &state{ctx: ctx, engine: e, c: c, deadline: deadline, timeout: e.opts.Timeout, maxBytes: e.opts.MaxOutput}
}

// renderWith renders src within st's limits; snippets call it with depth+1 and share st's
// deadline.
func (e *Engine) renderWith(parent *state, src string, depth int) (out string, rerr *Error) {
	t, perr := e.parse(src)
	if perr != nil {
		return "", perr
	}
	st := parent
	if depth > 0 {
		child := *parent
		child.depth, child.err = depth, nil
		st = &child
	}
	w := &limitWriter{st: st, max: st.maxBytes}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(abort); !ok {
				st.fail(renderErrorf("template failed: %v", r))
			}
			rerr = fromRender(st, nil, src)
		}
	}()
	if err := st.checkNow(); err != nil {
		return "", err
	}
	if err := t.FRender(w, bindings(st.c, st)); err != nil || st.err != nil {
		return "", fromRender(st, err, src)
	}
	return string(w.buf), nil
}

// instrument adapts a freshly parsed tree: loop bodies start with a node that checks the
// deadline, and captures render into a bounded buffer.
func (e *Engine) instrument(n render.Node) {
	switch n := n.(type) {
	case *render.SeqNode:
		e.instrumentAll(n.Children)
	case *render.BlockNode:
		e.instrumentAll(n.Body)
		for _, c := range n.Clauses {
			e.instrument(c)
		}
		if n.Name == "for" || n.Name == "tablerow" {
			n.Body = append([]render.Node{e.tick}, n.Body...)
		}
	}
}

func (e *Engine) instrumentAll(nodes []render.Node) {
	for i, n := range nodes {
		e.instrument(n)
		if b, ok := n.(*render.BlockNode); ok && b.Name == "capture" {
			c := *e.capt
			c.Token, c.Body, c.Clauses = b.Token, b.Body, b.Clauses
			nodes[i] = &c
		}
	}
}

// noFiles refuses every file, so no tag can read the server's disk.
type noFiles struct{}

func (noFiles) ReadTemplate(name string) ([]byte, error) {
	return nil, fmt.Errorf("templates cannot read files (%q)", name)
}
