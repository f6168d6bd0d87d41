package liquid

import (
	"fmt"

	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/values"
)

// bindings lays a Context out as the top-level variables of a render.
func bindings(c *Context, st *state) map[string]any {
	b := make(map[string]any, 16)
	b[stateKey] = st
	put := func(name string, m map[string]any) {
		if m != nil {
			b[name] = &object{m: m, path: name, st: st}
		}
	}
	customer := c.Customer
	if c.CustomerRelationship != nil {
		customer = with(customer, "_relationship", c.CustomerRelationship)
	}
	put("customer", customer)
	if e := c.Event; e != nil {
		data := e.Data
		if data == nil {
			data = map[string]any{}
		}
		b["event"] = &object{m: data, path: "event", st: st}
		b["event_name"] = e.Name
		b["event_id"] = e.ID
		b["event_timestamp"] = int(e.Timestamp)
	}
	if t := c.Trigger; t != nil {
		m := make(map[string]any, len(t.Data)+3)
		for k, v := range t.Data {
			m[k] = v
		}
		if t.ObjectType != "" && t.Object != nil {
			name := t.ObjectType
			if name == "customer" || name == "relationship" {
				name = "_" + name // Customer.io's escape hatch: those names are taken
			}
			m[name] = t.Object
		}
		if t.Relationship != nil {
			m["relationship"] = t.Relationship
		}
		if t.Customer != nil {
			m["customer"] = t.Customer
		}
		b["trigger"] = &object{m: m, path: "trigger", st: st}
	}
	put("journey", c.Journey)
	put("campaign", c.Campaign)
	put("message", c.Message)
	if c.DeliveryID != "" {
		b["delivery_id"] = c.DeliveryID
	}
	b["objects"] = &objects{st: st}
	b["snippets"] = &snippets{st: st}
	return b
}

// with returns a copy of m with key set to v.
func with(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[key] = v
	return out
}

// objects is objects.*: each property is a type's plural slug, loaded when first used.
type objects struct {
	namespace
	st *state
}

func (o *objects) Interface() any { return o }
func (o *objects) Test() bool     { return true }

func (o *objects) PropertyValue(k values.Value) values.Value {
	o.st.mustCheck()
	slug := key(k)
	max := o.st.engine.opts.MaxObjects
	objs, err := o.st.c.related(o.st.ctx, slug, max)
	if err != nil {
		o.st.stop(renderErrorf("loading objects.%s: %v", slug, err))
	}
	if len(objs) > max {
		o.st.stop(limitError("objects."+slug, fmt.Sprintf(
			"objects.%s has more than %d objects, the MaxObjects limit", slug, max)))
	}
	items := make([]any, len(objs))
	for i, m := range objs {
		items[i] = m
	}
	return &list{items: items, path: "objects." + slug, st: o.st}
}

func (o *objects) IndexValue(k values.Value) values.Value { return o.PropertyValue(k) }
func (o objects) String() string                          { return "" }

// snippets is snippets.*: each property renders the named snippet against the same Context.
type snippets struct {
	namespace
	st *state
}

func (s *snippets) Interface() any { return s }
func (s *snippets) Test() bool     { return true }

func (s *snippets) PropertyValue(k values.Value) values.Value {
	name := key(k)
	src, ok := s.st.c.Snippets[name]
	if !ok {
		return &missing{path: "snippets." + name, st: s.st}
	}
	if s.st.depth >= maxSnippetDepth {
		s.st.stop(limitError("snippets", fmt.Sprintf(
			"snippets.%s: snippets nest more than %d deep", name, maxSnippetDepth)))
	}
	out, err := s.st.engine.renderWith(s.st, src, s.st.depth+1)
	if err != nil {
		e := *err
		e.Message = fmt.Sprintf("in snippets.%s: %s", name, e.Message)
		e.Line = 0
		s.st.stop(&e)
	}
	return values.ValueOf(out)
}

func (s *snippets) IndexValue(k values.Value) values.Value { return s.PropertyValue(k) }
func (s snippets) String() string                          { return "" }

// maxSnippetDepth bounds snippets that use snippets, and stops a snippet that uses itself.
const maxSnippetDepth = 4

// namespace gives objects and snippets the values.Value methods that make no sense on them.
type namespace struct{}

func (namespace) Int() int                   { panic(expressions.InterpreterError("a namespace is not a number")) }
func (namespace) Equal(values.Value) bool    { return false }
func (namespace) Less(values.Value) bool     { return false }
func (namespace) Contains(values.Value) bool { return false }
