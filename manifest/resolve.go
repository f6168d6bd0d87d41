package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// names maps the names a manifest may use to ids: object types by name, singular name or
// slug (any case), segments by name, templates by name. Definitions that Apply has yet to
// create have placeholder ids while everything is validated.
type names struct {
	types     map[string]int
	segments  map[string]int64
	dynamic   map[string]bool // data-driven segments, which segment steps cannot change
	templates map[string]bool
}

func (n *names) addType(t herald.ObjectType) {
	for _, k := range []string{t.Name, t.SingularName, t.Slug, t.SingularSlug} {
		if k != "" {
			n.types[strings.ToLower(k)] = t.ID
		}
	}
}

// resolve decodes raw and replaces the names in it with ids: "type_id": "companies"
// becomes the type's id; {"segment": {"name": …}} (a condition leaf, a segment step) becomes
// {"segment": {"id": …}}; a trigger's "segment": "…" becomes its segment_id. A send step's
// template must name a template. refs collects the segment names used. Errors name the field,
// relative to the value's root.
func (n *names) resolve(raw json.RawMessage, refs map[string]bool) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, herald.Errorf(herald.Invalid, "", "is not valid JSON: %v", err)
	}
	if err := n.walk(v, "", refs); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func (n *names) walk(v any, path string, refs map[string]bool) error {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if err := n.walk(e, fmt.Sprintf("%s[%d]", path, i), refs); err != nil {
				return err
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			at := join(path, k)
			e := x[k]
			switch k {
			case "fields", "attributes", "value", "to": // message content and values: no names in them
				continue
			case "type_id":
				if s, ok := e.(string); ok && !numeric(s) {
					id, ok := n.types[strings.ToLower(strings.TrimSpace(s))]
					if !ok {
						return herald.Errorf(herald.NotFound, at, "no object type is named %q", s)
					}
					x[k] = id
				}
				continue
			case "segment":
				switch seg := e.(type) {
				case string: // trigger.segment
					if !strings.HasSuffix(path, "trigger") {
						return herald.Errorf(herald.Invalid, at, "must be {\"id\": …} or {\"name\": …}")
					}
					if _, both := x["segment_id"]; both {
						return herald.Errorf(herald.Invalid, at, "give segment or segment_id, not both")
					}
					id, ok := n.segments[seg]
					if !ok {
						return herald.Errorf(herald.NotFound, at, "no segment is named %q", seg)
					}
					refs[seg] = true
					delete(x, "segment")
					x["segment_id"] = id
					continue
				case map[string]any:
					if name, ok := seg["name"].(string); ok {
						if _, both := seg["id"]; both {
							return herald.Errorf(herald.Invalid, at+".name", "give id or name, not both")
						}
						id, ok := n.segments[name]
						if !ok {
							return herald.Errorf(herald.NotFound, at+".name", "no segment is named %q", name)
						}
						if _, step := seg["action"]; step && n.dynamic[name] {
							return herald.Errorf(herald.Invalid, at+".name", "segment %q is data-driven; a segment step needs a manual segment", name)
						}
						refs[name] = true
						delete(seg, "name")
						seg["id"] = id
					}
				}
			case "send":
				if m, ok := e.(map[string]any); ok {
					if t, ok := m["template"].(string); ok && t != "" && !numeric(t) && !n.templates[t] {
						return herald.Errorf(herald.NotFound, at+".template", "no template is named %q", t)
					}
				}
			}
			if err := n.walk(e, at, refs); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func numeric(s string) bool {
	_, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return err == nil
}

// sameJSON reports whether a and b encode the same value (key order and spacing aside).
func sameJSON(a, b []byte) bool {
	var x, y any
	if len(bytes.TrimSpace(a)) == 0 || len(bytes.TrimSpace(b)) == 0 {
		return len(bytes.TrimSpace(a)) == len(bytes.TrimSpace(b))
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// rebase returns err with prefix (and the dot after it) cut from its field: the domain's
// validators name fields under "campaign." or "segment.", a manifest under its own path.
func rebase(err error, prefix string) error {
	e := *herald.AsError(err)
	switch {
	case e.Field == prefix:
		e.Field = ""
	case strings.HasPrefix(e.Field, prefix+"."):
		e.Field = strings.TrimPrefix(e.Field, prefix+".")
	}
	return &e
}
