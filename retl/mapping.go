package retl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// mapper turns one source row into one op, by the sync's call and mapping (mapping keys name
// source columns: id/email/cio_id/anonymous_id the person, object_id and object_type_id the
// object, relationship_attributes a comma-separated list of columns, event or event_name the
// event, timestamp and event_id its time and dedupe id). Unmapped columns become attributes
// (or event data); NULLs leave attributes alone.
type mapper struct {
	sync  *herald.Sync
	used  map[string]bool
	relAt map[string]bool
}

func newMapper(sy *herald.Sync) *mapper {
	m := &mapper{sync: sy, used: map[string]bool{}, relAt: map[string]bool{}}
	for k, col := range sy.Mapping {
		if k == "relationship_attributes" {
			for _, c := range strings.Split(col, ",") {
				if c = strings.TrimSpace(c); c != "" {
					m.relAt[c], m.used[c] = true, true
				}
			}
			continue
		}
		if k != "event_name" {
			m.used[col] = true
		}
	}
	return m
}

func (m *mapper) op(cols []string, vals []any) (herald.Op, error) {
	row := make(map[string]any, len(cols))
	for i, c := range cols {
		row[c] = vals[i]
	}
	get := func(key string) string {
		col, ok := m.sync.Mapping[key]
		if !ok {
			return ""
		}
		return text(row[col])
	}
	attrs, rel := herald.Attributes{}, herald.Attributes{}
	for i, c := range cols {
		if vals[i] == nil || (m.used[c] && !m.relAt[c]) {
			continue
		}
		v, err := jsonValue(vals[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %v", c, err)
		}
		if m.relAt[c] {
			rel[c] = v
		} else {
			attrs[c] = v
		}
	}
	person := func(required bool) (herald.PersonRef, error) {
		for _, kind := range []herald.IdentifierKind{herald.ByID, herald.ByEmail, herald.ByCioID} {
			if _, mapped := m.sync.Mapping[string(kind)]; mapped {
				v := get(string(kind))
				if v == "" && required {
					return herald.PersonRef{}, fmt.Errorf("the %s column %s is empty", kind, m.sync.Mapping[string(kind)])
				}
				return herald.PersonRef{Kind: kind, Value: v}, nil
			}
		}
		if required {
			return herald.PersonRef{}, herald.Errorf(herald.Required, "mapping", "map id, email or cio_id to a column")
		}
		return herald.PersonRef{}, nil
	}
	objectRef := func() (herald.ObjectRef, error) {
		id := get("object_id")
		if id == "" {
			return herald.ObjectRef{}, fmt.Errorf("the object_id column is empty or not mapped")
		}
		typeID := m.sync.ObjectTypeID
		if t := get("object_type_id"); t != "" {
			n, err := strconv.Atoi(t)
			if err != nil || n <= 0 {
				return herald.ObjectRef{}, fmt.Errorf("object_type_id %q is not a type id", t)
			}
			typeID = n
		}
		return herald.ObjectRef{TypeID: typeID, ObjectID: id}, nil
	}
	var op herald.Op
	switch m.sync.Call {
	case "identify":
		ref, err := person(true)
		if err != nil {
			return nil, err
		}
		op = &herald.IdentifyPerson{Ref: ref, AnonymousID: get("anonymous_id"), Attributes: attrs}
	case "objects":
		ref, err := objectRef()
		if err != nil {
			return nil, err
		}
		o := &herald.IdentifyObject{Ref: ref, Attributes: attrs}
		if p, _ := person(false); !p.IsZero() && p.Value != "" {
			o.People = []herald.ObjectRelationship{{Person: p, Attributes: rel}}
		}
		op = o
	case "relationships":
		ref, err := objectRef()
		if err != nil {
			return nil, err
		}
		p, err := person(true)
		if err != nil {
			return nil, err
		}
		for k, v := range rel {
			attrs[k] = v
		}
		op = &herald.PersonRelationships{Ref: p, Items: []herald.PersonRelationship{{Object: ref, Attributes: attrs}}}
	case "track":
		p, _ := person(false)
		name := m.sync.Mapping["event_name"]
		if col, ok := m.sync.Mapping["event"]; ok {
			name = text(row[col])
		}
		ts, err := unix(row[m.sync.Mapping["timestamp"]])
		if err != nil {
			return nil, fmt.Errorf("timestamp: %v", err)
		}
		data, _ := json.Marshal(attrs)
		e := herald.Event{Name: name, DedupeID: get("event_id"), Timestamp: ts, Data: data, AnonymousID: get("anonymous_id")}
		if p.Value != "" {
			e.Person, e.AnonymousID = p, ""
		}
		op = &herald.TrackEvent{Event: e}
	}
	if err := op.Validate(); err != nil {
		return nil, err
	}
	return op, nil
}

// jsonValue renders a database value as JSON: numbers and booleans as such, times as unix
// seconds, text and bytes as strings.
func jsonValue(v any) (json.RawMessage, error) {
	switch x := v.(type) {
	case time.Time:
		return json.RawMessage(strconv.FormatInt(x.Unix(), 10)), nil
	case []byte:
		return herald.JSONString(string(x)), nil
	case string:
		return herald.JSONString(x), nil
	case int64, int32, int, float64, float32, bool:
		return json.Marshal(x)
	}
	return herald.JSONString(fmt.Sprint(v)), nil
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return strings.TrimSpace(string(x))
	case string:
		return strings.TrimSpace(x)
	case time.Time:
		return strconv.FormatInt(x.Unix(), 10)
	}
	return fmt.Sprint(v)
}

func unix(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case time.Time:
		return x.Unix(), nil
	case int64:
		return x, nil
	case float64:
		return int64(x), nil
	}
	s := text(v)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("%q is not a time", s)
}
