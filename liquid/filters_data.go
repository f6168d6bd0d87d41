package liquid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/osteele/liquid"
	"github.com/osteele/liquid/expressions"
	"github.com/osteele/liquid/values"
)

// addDataFilters adds hashing, encodings, JSON and Customer.io's find and where_not.
func addDataFilters(set filterSet) {
	// hmac_sha256 is the hex HMAC-SHA256 of the input under the key argument.
	set["hmac_sha256"] = func(s, key string) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil))
	}
	// hex_base64 re-encodes a hex string (such as a digest) as base64.
	set["hex_base64"] = func(s string) (string, error) {
		b, err := hex.DecodeString(s)
		if err != nil {
			return "", fmt.Errorf("%q is not hex", s)
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	set["base64_encode"] = func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	set["base64_url_safe_encode"] = func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
	set["base64_decode"] = decoder(base64.StdEncoding, base64.RawStdEncoding)
	set["base64_url_safe_decode"] = decoder(base64.URLEncoding, base64.RawURLEncoding)

	toJSON := func(v any) (string, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("cannot be written as JSON: %v", err)
		}
		return string(b), nil
	}
	set["json"] = toJSON
	set["to_json"] = toJSON
	set["from_json"] = func(s string) (any, error) {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		return v, nil
	}

	// find returns the first item whose property equals the value, or nil.
	set["find"] = func(items []any, key string, want any) any {
		for _, item := range items {
			if values.Equal(property(item, key), want) {
				return item
			}
		}
		return nil
	}
	// where_not keeps the items whose property does not equal the value.
	set["where_not"] = func(items []any, key string, want any) []any {
		out := []any{}
		for _, item := range items {
			if !values.Equal(property(item, key), want) {
				out = append(out, item)
			}
		}
		return out
	}
}

func decoder(padded, raw *base64.Encoding) func(string) (string, error) {
	return func(s string) (string, error) {
		b, err := padded.DecodeString(s)
		if err != nil {
			if b, err = raw.DecodeString(s); err != nil {
				return "", fmt.Errorf("%q is not base64", s)
			}
		}
		return string(b), nil
	}
}

// property reads key from a map item, following dots ("relationship.role").
func property(item any, key string) any {
	v := values.ValueOf(item)
	for _, k := range splitPath(key) {
		v = v.PropertyValue(values.ValueOf(k))
	}
	return v.Interface()
}

func splitPath(key string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			parts = append(parts, key[start:i])
			start = i + 1
		}
	}
	return append(parts, key[start:])
}

// addExpressionFilters adds the filters that take a Liquid expression evaluated per item:
// where_exp ({{ objects.people | where_exp: "p", "p.relationship.role == 'doctor'" }}) keeps
// the items for which it is true, find_exp returns the first. Inside the expression the item
// is the same strict value a loop variable is.
func addExpressionFilters(e *liquid.Engine) {
	e.RegisterFilter("where_exp", func(in any, name string, expr expressions.Closure) (any, error) {
		found, err := matching(in, name, expr, false)
		if err != nil {
			return nil, err
		}
		return resultOf(in, "where_exp", found), nil
	})
	e.RegisterFilter("find_exp", func(in any, name string, expr expressions.Closure) (any, error) {
		found, err := matching(in, name, expr, true)
		if err != nil || len(found) == 0 {
			return nil, err
		}
		return resultOf(in, "find_exp", found[0]), nil
	})
}

func matching(in any, name string, expr expressions.Closure, first bool) ([]any, error) {
	var items []any
	path := "item"
	var st *state
	switch v := in.(type) {
	case *missing:
		return nil, v.st.fail(missingError(v.path))
	case *list:
		items, path, st = v.items, v.path, v.st
	case []any:
		items = v
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("needs an array, not %T", unwrap(in))
	}
	out := []any{}
	for i, item := range items {
		if st != nil {
			if err := st.check(); err != nil {
				return nil, err
			}
		}
		bound := item
		if st != nil { // a filter's result is plain: only the context's own values are strict
			bound = wrap(item, fmt.Sprintf("%s[%d]", path, i), st)
		}
		r, err := expr.Bind(name, bound).Evaluate()
		if err != nil {
			return nil, err
		}
		if values.ValueOf(r).Test() {
			out = append(out, item)
			if first {
				break
			}
		}
	}
	return out, nil
}

// resultOf keeps the result of an expression filter on a context list strict, as strict
// does for the other filters.
func resultOf(in any, name string, v any) any {
	if l, ok := in.(*list); ok {
		return wrapResult(v, l.path+" | "+name, l.st)
	}
	return v
}
