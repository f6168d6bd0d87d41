package liquid

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/values"
)

// The render context reaches templates as values of the types below rather than as plain
// maps, because osteele's values answer a missing key with a silent nil. These answer it with
// a missing value that knows its path: harmless in a condition ({% if customer.x %}), replaced
// by | default:, and a failure naming the path anywhere else. They implement values.Value (so
// osteele uses them as they are) and its iterable interface (so {% for %} keeps the paths).
// Filters get the plain Go value (see unwrap); what a filter returns is plain again.

// object is a map-valued variable.
type object struct {
	m    map[string]any
	path string
	st   *state
}

// list is a slice-valued variable.
type list struct {
	items []any
	path  string
	st    *state
}

// missing is a variable the context lacks.
type missing struct {
	path string
	st   *state
}

// wrap turns a Go value at path into what templates see: objects and lists for containers,
// ints for integral numbers (so ranges and comparisons work), the value itself otherwise.
func wrap(v any, path string, st *state) any {
	switch v := v.(type) {
	case map[string]any:
		return &object{m: v, path: path, st: st}
	case []any:
		return &list{items: v, path: path, st: st}
	case []map[string]any:
		items := make([]any, len(v))
		for i, m := range v {
			items[i] = m
		}
		return &list{items: items, path: path, st: st}
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int(v)
		}
		return v
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return int(n)
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case int64:
		return int(v)
	}
	return v
}

// unwrap returns the plain Go value behind a template value, for filters.
func unwrap(v any) any {
	switch v := v.(type) {
	case *object:
		return v.m
	case *list:
		return v.items
	}
	return v
}

func (o *object) get(key string) values.Value {
	o.st.mustCheck()
	if v, ok := o.m[key]; ok {
		return values.ValueOf(wrap(v, o.path+"."+key, o.st))
	}
	if key == "size" {
		return values.ValueOf(len(o.m))
	}
	return &missing{path: o.path + "." + key, st: o.st}
}

func (o *object) Interface() any                            { return o }
func (o *object) Int() int                                  { panic(expressions.InterpreterError(o.path + " is not a number")) }
func (o *object) Equal(other values.Value) bool             { return values.Equal(o.m, unwrap(other.Interface())) }
func (o *object) Less(values.Value) bool                    { return false }
func (o *object) Test() bool                                { return true }
func (o *object) PropertyValue(k values.Value) values.Value { return o.get(key(k)) }
func (o *object) IndexValue(k values.Value) values.Value    { return o.get(key(k)) }
func (o *object) Contains(k values.Value) bool {
	_, ok := o.m[key(k)]
	return ok
}

// key reads a property name; it is nearly always a string already.
func key(k values.Value) string {
	if s, ok := k.Interface().(string); ok {
		return s
	}
	return fmt.Sprint(k.Interface())
}

// Len and Index make {% for pair in object %} yield [key, value] pairs in key order.
func (o *object) Len() int { return len(o.m) }
func (o *object) Index(i int) any {
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	k := keys[i]
	return []any{k, wrap(o.m[k], o.path+"."+k, o.st)}
}

// String renders an object as JSON, which is more useful in a message than Go's map syntax.
func (o object) String() string {
	b, err := json.Marshal(o.m)
	if err != nil {
		return ""
	}
	return string(b)
}

func (l *list) at(i int) values.Value {
	l.st.mustCheck()
	path := l.path + "[" + strconv.Itoa(i) + "]"
	if i < 0 {
		i += len(l.items)
	}
	if i < 0 || i >= len(l.items) {
		return &missing{path: path, st: l.st}
	}
	return values.ValueOf(wrap(l.items[i], path, l.st))
}

func (l *list) Interface() any { return l }
func (l *list) Int() int       { panic(expressions.InterpreterError(l.path + " is not a number")) }
func (l *list) Equal(other values.Value) bool {
	return values.Equal(l.items, unwrap(other.Interface()))
}
func (l *list) Less(values.Value) bool { return false }
func (l *list) Test() bool             { return true }
func (l *list) IndexValue(k values.Value) values.Value {
	switch i := k.Interface().(type) {
	case int:
		return l.at(i)
	case float64:
		return l.at(int(i))
	}
	return &missing{path: fmt.Sprintf("%s[%v]", l.path, k.Interface()), st: l.st}
}
func (l *list) PropertyValue(k values.Value) values.Value {
	switch k.Interface() {
	case "size":
		return values.ValueOf(len(l.items))
	case "first":
		return l.at(0)
	case "last":
		if len(l.items) == 0 {
			return &missing{path: l.path + ".last", st: l.st}
		}
		return l.at(len(l.items) - 1)
	}
	return &missing{path: fmt.Sprintf("%s.%v", l.path, k.Interface()), st: l.st}
}
func (l *list) Contains(v values.Value) bool {
	want := unwrap(v.Interface())
	for _, item := range l.items {
		if values.Equal(item, want) {
			return true
		}
	}
	return false
}
func (l *list) Len() int { return len(l.items) }
func (l *list) Index(i int) any {
	return wrap(l.items[i], l.path+"["+strconv.Itoa(i)+"]", l.st)
}

// String renders a list as Liquid renders an array: its items one after another.
func (l list) String() string {
	var b strings.Builder
	for _, item := range l.items {
		switch item := wrap(item, "", l.st).(type) {
		case nil:
		case fmt.Stringer:
			b.WriteString(item.String())
		default:
			fmt.Fprint(&b, item)
		}
	}
	return b.String()
}

func (m *missing) deeper(key string) values.Value {
	return &missing{path: m.path + "." + key, st: m.st}
}

func (m *missing) Interface() any { return m }
func (m *missing) Int() int {
	m.st.stop(missingError(m.path))
	return 0
}
func (m *missing) Equal(other values.Value) bool {
	v := other.Interface()
	_, isMissing := v.(*missing)
	return v == nil || isMissing
}
func (m *missing) Less(values.Value) bool     { return false }
func (m *missing) Test() bool                 { return false }
func (m *missing) Contains(values.Value) bool { return false }
func (m *missing) PropertyValue(k values.Value) values.Value {
	return m.deeper(key(k))
}
func (m *missing) IndexValue(k values.Value) values.Value {
	if _, ok := k.Interface().(string); ok {
		return m.deeper(k.Interface().(string))
	}
	return &missing{path: fmt.Sprintf("%s[%v]", m.path, k.Interface()), st: m.st}
}

// Len fails the render: iterating over a missing variable is using it.
func (m *missing) Len() int {
	m.st.fail(missingError(m.path))
	return 0
}
func (m *missing) Index(int) any { return nil }

// String is how the value reaches output: it fails the render. osteele formats unknown
// types with fmt, which recovers panics, so String records the failure and the writer,
// which checks it on the next write, stops the render.
func (m missing) String() string {
	m.st.fail(missingError(m.path))
	return ""
}
