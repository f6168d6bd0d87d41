package herald

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// Limits follow Customer.io's Track API so that what it accepts Herald accepts, and what it
// refuses Herald refuses with a reason.
const (
	MaxIdentifierBytes = 150     // person id, email, anonymous_id, object_id
	MaxAttrNameBytes   = 150     // attribute name
	MaxAttrValueBytes  = 1000    // one attribute value, JSON-encoded
	MaxAttributes      = 300     // attributes on one entity, and in one call
	MaxEntityBytes     = 100_000 // all attributes of one object or relationship
	MaxEventNameBytes  = 100     // event name
	MaxEventDataBytes  = 100_000 // event data, JSON-encoded
)

// Attributes are an entity's custom attributes. Values are kept as the JSON the client sent
// so that numbers, strings and nested values survive unchanged.
type Attributes map[string]json.RawMessage

// Diff records what one write did to one attribute; From or To is nil when absent.
type Diff struct {
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
}

// Removes reports whether v removes an attribute: JSON null or the empty string.
func Removes(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null" || string(v) == `""`
}

// ParseAttributes decodes a JSON object into Attributes; field names the object for errors.
func ParseAttributes(raw json.RawMessage, field string) (Attributes, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var a Attributes
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, Errorf(Invalid, field, "must be a JSON object")
	}
	return a, nil
}

// ReservedFor lists, per entity kind, attribute names that are refused: they are identifiers
// or names that Liquid uses for something else.
var ReservedFor = map[string][]string{
	"person":       {"_relationship", "cio_id"},
	"object":       {"object_id", "cio_object_id", "objectId", "relationship", "_relationship"},
	"relationship": {"object_id", "cio_object_id", "objectId", "relationship", "_relationship", "created_at"},
}

// ValidateAttributes checks names, sizes, count and reserved names of an update for an entity
// of the given kind ("person", "object", "relationship"); field prefixes error fields.
func ValidateAttributes(kind string, a Attributes, field string) error {
	if len(a) > MaxAttributes {
		return Errorf(TooMany, field, "has %d attributes; at most %d are allowed", len(a), MaxAttributes)
	}
	for _, name := range sortedKeys(a) {
		f := joinField(field, name)
		if name == "" || strings.TrimSpace(name) == "" {
			return Errorf(Invalid, field, "attribute names must not be empty")
		}
		if len(name) > MaxAttrNameBytes {
			return Errorf(TooLong, f, "attribute name is %d bytes; at most %d are allowed", len(name), MaxAttrNameBytes)
		}
		for _, r := range ReservedFor[kind] {
			if name == r {
				return Errorf(Reserved, f, "%q is a reserved name and cannot be a %s attribute", name, kind)
			}
		}
		v := a[name]
		if len(v) > MaxAttrValueBytes && !Removes(v) {
			return Errorf(TooLong, f, "value is %d bytes; at most %d are allowed", len(v), MaxAttrValueBytes)
		}
	}
	return nil
}

// Merge applies update to current at time ts and returns the new attributes, the per-attribute
// set times and the diff. Attributes whose recorded set time is after ts are left alone, so
// writes carrying an older timestamp cannot overwrite newer ones. current and times are not
// modified.
func Merge(current Attributes, times map[string]int64, update Attributes, ts int64) (Attributes, map[string]int64, map[string]Diff) {
	var diff map[string]Diff
	next := current
	nextTimes := times
	copied := false
	for _, name := range sortedKeys(update) {
		v := update[name]
		if t, ok := times[name]; ok && t > ts {
			continue
		}
		old, had := current[name]
		remove := Removes(v)
		if remove && !had {
			continue
		}
		if !remove {
			v = compact(v)
			if had && bytes.Equal(old, v) {
				continue
			}
		}
		if !copied {
			next = make(Attributes, len(current)+len(update))
			for k, x := range current {
				next[k] = x
			}
			nextTimes = make(map[string]int64, len(times)+len(update))
			for k, x := range times {
				nextTimes[k] = x
			}
			diff = make(map[string]Diff)
			copied = true
		}
		d := Diff{}
		if had {
			d.From = old
		}
		if remove {
			delete(next, name)
			delete(nextTimes, name)
		} else {
			next[name] = v
			nextTimes[name] = ts
			d.To = v
		}
		diff[name] = d
	}
	return next, nextTimes, diff
}

// CheckTotal enforces the attribute count and total size of an entity after a merge.
func CheckTotal(a Attributes, field string, maxBytes int) error {
	if len(a) > MaxAttributes {
		return Errorf(TooMany, field, "the entity would have %d attributes; at most %d are allowed", len(a), MaxAttributes)
	}
	if maxBytes > 0 {
		n := 0
		for k, v := range a {
			n += len(k) + len(v)
		}
		if n > maxBytes {
			return Errorf(TooLarge, field, "the entity's attributes would take %d bytes; at most %d are allowed", n, maxBytes)
		}
	}
	return nil
}

// String renders an attribute value as Customer.io's App API does: strings bare, everything
// else as its JSON text.
func (a Attributes) String(name string) (string, bool) {
	v, ok := a[name]
	if !ok {
		return "", false
	}
	return ValueString(v), true
}

// ValueString renders one JSON value as a string: strings unquoted, other values as JSON.
func ValueString(v json.RawMessage) string {
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return string(v)
}

// StringMap renders all attributes with ValueString.
func (a Attributes) StringMap() map[string]string {
	m := make(map[string]string, len(a))
	for k, v := range a {
		m[k] = ValueString(v)
	}
	return m
}

// Int64Value reads a unix timestamp or count sent as a JSON number or numeric string.
func Int64Value(v json.RawMessage, field string) (int64, error) {
	s := strings.TrimSpace(string(v))
	if s == "" || s == "null" {
		return 0, nil
	}
	if s[0] == '"' {
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, Errorf(Invalid, field, "must be a number")
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, Errorf(Invalid, field, "must be a number, got %s", truncate(string(v), 40))
	}
	return int64(f), nil
}

// JSONString encodes s as a JSON string value.
// HTML characters are not escaped: a value reads back byte for byte as an API write sends it.
func JSONString(s string) json.RawMessage {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
	}
	if plain {
		b := make([]byte, 0, len(s)+2)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func compact(v json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return v
	}
	if buf.Len() == len(v) {
		return v
	}
	return buf.Bytes()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinField(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// CheckIdentifier enforces the byte limit and non-emptiness of an identifier.
func CheckIdentifier(field, v string) error {
	if v == "" {
		return Errorf(Required, field, "must not be empty")
	}
	if len(v) > MaxIdentifierBytes {
		return Errorf(TooLong, field, "is %d bytes; at most %d are allowed", len(v), MaxIdentifierBytes)
	}
	return nil
}

// MaxTimestamp is the largest unix time in seconds Herald accepts: beyond it a value is taken
// for milliseconds, which would otherwise pin attributes far in the future.
const MaxTimestamp = 1e11

// CheckTimestamp refuses negative times and times that look like milliseconds.
func CheckTimestamp(field string, ts int64) error {
	if ts < 0 {
		return Errorf(Invalid, field, "must be a unix time in seconds, not negative")
	}
	if ts > MaxTimestamp {
		return Errorf(Invalid, field, "%d looks like milliseconds; send unix seconds", ts)
	}
	return nil
}
