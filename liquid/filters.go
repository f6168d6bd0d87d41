package liquid

import (
	"fmt"
	"reflect"

	"github.com/osteele/liquid"
	"github.com/osteele/liquid/filters"
	"github.com/osteele/liquid/values"
)

// maxRangeItems bounds the integer range a filter may turn into an array ((1..n) | join).
const maxRangeItems = 100_000

// filterSet collects filter definitions by name.
type filterSet map[string]any

// AddFilter records fn under name; it lets osteele's AddStandardFilters fill a filterSet.
func (s filterSet) AddFilter(name string, fn any) { s[name] = fn }

// registerFilters installs osteele's standard filters and Customer.io's, each behind strict,
// except the few that must see a missing value or an expression closure.
func registerFilters(e *liquid.Engine, maxOutput int) {
	set := filterSet{}
	filters.AddStandardFilters(set)
	delete(set, "default") // replaced below: it must accept a missing value
	addTextFilters(set)
	addNumberFilters(set)
	addDateFilters(set)
	addDataFilters(set)
	for name, fn := range set {
		e.RegisterFilter(name, strict(name, fn, maxOutput))
	}
	e.RegisterFilter("default", defaultFilter)
	addExpressionFilters(e) // take closures: osteele passes those only to declared parameters
}

// strict wraps a filter: a missing variable among its input and arguments fails the render
// naming it; template values are unwrapped to plain Go values; ranges are bounded; and a
// string result over maxOutput bytes fails the render.
func strict(name string, fn any, maxOutput int) func(any, ...any) (any, error) {
	f := reflect.ValueOf(fn)
	return func(in any, args ...any) (any, error) {
		all := make([]any, 0, len(args)+1)
		all = append(all, in)
		all = append(all, args...)
		var st *state
		label := name
		for i, a := range all {
			switch a := a.(type) {
			case *missing:
				return nil, a.st.fail(missingError(a.path))
			case *object:
				st = a.st
				if i == 0 {
					label = a.path + " | " + name
				}
			case *list:
				st = a.st
				if i == 0 {
					label = a.path + " | " + name
				}
			case values.Range:
				if a.Len() > maxRangeItems {
					return nil, fmt.Errorf("range of %d numbers is over the %d-number limit", a.Len(), maxRangeItems)
				}
			}
			all[i] = unwrap(a)
		}
		if st != nil {
			if err := st.check(); err != nil {
				return nil, err
			}
		}
		if err := guard(name, all, maxOutput); err != nil {
			return nil, err
		}
		out, err := values.Call(f, all)
		if err != nil {
			return nil, err
		}
		if n := resultSize(out); n > maxOutput {
			return nil, limitError("output", fmt.Sprintf("%s made a %d-byte string, over the %d-byte limit", name, n, maxOutput))
		}
		if st != nil {
			return wrapResult(out, label, st), nil
		}
		return out, nil
	}
}

// guard refuses, before they run, the filter calls whose result would be too large to build:
// those that multiply their input rather than add to it.
func guard(name string, args []any, maxOutput int) error {
	str := func(i int) string {
		if i < len(args) {
			if s, ok := args[i].(string); ok {
				return s
			}
		}
		return ""
	}
	var n int
	switch name {
	case "replace":
		if str(1) == "" {
			n = len(str(0)) + (len(str(0))+1)*len(str(2))
		}
	case "join":
		if rv := reflect.ValueOf(args[0]); rv.Kind() == reflect.Slice {
			n = rv.Len() * len(str(1))
		}
	}
	if n > maxOutput {
		return limitError("output", fmt.Sprintf("%s would make a string of about %d bytes, over the %d-byte limit", name, n, maxOutput))
	}
	return nil
}

func resultSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []byte:
		return len(v)
	}
	return 0
}

// defaultFilter is Customer.io's | default: its fallback replaces a missing variable, nil,
// false and an empty string, array or map. With allow_false: true, false is kept.
func defaultFilter(value, fallback any, kwargs ...map[string]any) any {
	if _, ok := value.(*missing); ok {
		return fallback
	}
	allowFalse := false
	if len(kwargs) > 0 {
		allowFalse, _ = kwargs[0]["allow_false"].(bool)
	}
	v := unwrap(value)
	switch {
	case v == nil:
		return fallback
	case v == false:
		if !allowFalse {
			return fallback
		}
	case isEmpty(v):
		return fallback
	}
	return value
}

func isEmpty(v any) bool {
	if s, ok := v.(string); ok {
		return s == ""
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice:
		return r.Len() == 0
	}
	return false
}

// wrapResult keeps a filter's map or array result strict, labelled by the filter chain that
// made it ("objects.providers | where | first"), so that a typo in {{ doctor.nmae }} after
// {% assign doctor = objects.providers | where: … | first %} fails as it would on the context.
func wrapResult(v any, label string, st *state) any {
	switch v.(type) {
	case map[string]any, []any, []map[string]any:
		return wrap(v, label, st)
	}
	return v
}
