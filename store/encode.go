package store

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// The write path encodes an attribute map and its timestamps for every row it writes; these
// encoders do what json.Marshal does for the two map types (keys in order) without reflection.
// Values are written as they are, not HTML-escaped: the diff compares a stored value with an
// incoming compacted one byte for byte, so "<" must come back as "<", not "\u003c".

func encodeAttrs(a herald.Attributes) string {
	if len(a) == 0 {
		return "{}"
	}
	names := sortedNames(a)
	n := 2
	for _, k := range names {
		n += len(k) + len(a[k]) + 4
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		appendKey(&b, k)
		v := a[k]
		if !json.Valid(v) {
			panic("encode attributes: attribute " + strconv.Quote(k) + " holds invalid JSON")
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

func encodeTimes(t map[string]int64) string {
	if len(t) == 0 {
		return "{}"
	}
	names := sortedNames(t)
	var b strings.Builder
	b.Grow(len(names) * 24)
	b.WriteByte('{')
	var num [20]byte
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		appendKey(&b, k)
		b.Write(strconv.AppendInt(num[:0], t[k], 10))
	}
	b.WriteByte('}')
	return b.String()
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// appendKey writes k as a JSON string and a colon; names that need escaping go through
// encoding/json.
func appendKey(b *strings.Builder, k string) {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(':')
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(k)
	b.WriteString(`":`)
}

// encodeIdentifiers writes a change's customer_identifiers as json.Marshal would.
func encodeIdentifiers(id *herald.Identifiers) string {
	if id == nil {
		return "null"
	}
	b := make([]byte, 0, 48+len(id.ID)+len(id.Email)+len(id.CioID)+len(id.AnonymousID))
	b = append(b, `{"id":`...)
	b = append(b, herald.JSONString(id.ID)...)
	b = append(b, `,"email":`...)
	b = append(b, herald.JSONString(id.Email)...)
	b = append(b, `,"cio_id":`...)
	b = append(b, herald.JSONString(id.CioID)...)
	if id.AnonymousID != "" {
		b = append(b, `,"anonymous_id":`...)
		b = append(b, herald.JSONString(id.AnonymousID)...)
	}
	return string(append(b, '}'))
}
