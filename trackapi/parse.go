package trackapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// object decodes raw as a JSON object of raw values; field names it in errors.
func object(raw json.RawMessage, field string) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, herald.Errorf(herald.Invalid, field, "must be a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, herald.Errorf(herald.Invalid, field, "is not valid JSON: %v", jsonErr(err))
	}
	return m, nil
}

// str decodes a JSON string, or a number given where Customer.io accepts either.
func str(raw json.RawMessage, field string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", herald.Errorf(herald.Invalid, field, "is not a valid string")
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", herald.Errorf(herald.Invalid, field, "must be a string")
		}
		return n.String(), nil
	}
	return "", herald.Errorf(herald.Invalid, field, "must be a string")
}

// typeID reads object_type_id sent as 1 or "1".
func typeID(raw json.RawMessage, field string) (int, error) {
	s, err := str(raw, field)
	if err != nil {
		return 0, err
	}
	if s == "" {
		return 0, herald.Errorf(herald.Required, field, "is required")
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0, herald.Errorf(herald.Invalid, field, "must be a positive integer such as 1 or \"1\", got %q", s)
	}
	return n, nil
}

// personIdentifiers reads {id|email|cio_id} (and anonymous_id where allowed): exactly one.
func personIdentifiers(raw json.RawMessage, field string, allowAnonymous bool) (herald.PersonRef, error) {
	m, err := object(raw, field)
	if err != nil {
		return herald.PersonRef{}, err
	}
	if m == nil {
		return herald.PersonRef{}, herald.Errorf(herald.Required, field, "is required: give one of id, email or cio_id")
	}
	var ref herald.PersonRef
	for _, kind := range []herald.IdentifierKind{herald.ByID, herald.ByEmail, herald.ByCioID, herald.ByAnonymousID, "phone"} {
		v, ok := m[string(kind)]
		if !ok {
			continue
		}
		s, err := str(v, field+"."+string(kind))
		if err != nil {
			return ref, err
		}
		if !ref.IsZero() {
			return ref, herald.Errorf(herald.Invalid, field, "give exactly one identifier; got %s and %s", ref.Kind, kind)
		}
		switch {
		case kind == "phone":
			return ref, herald.Errorf(herald.Unsupported, field+".phone", "phone identifiers are not enabled; use id, email or cio_id")
		case kind == herald.ByAnonymousID && !allowAnonymous:
			return ref, herald.Errorf(herald.Invalid, field+".anonymous_id", "is not accepted here; use id, email or cio_id")
		}
		ref = herald.PersonRef{Kind: kind, Value: s}
	}
	for k := range m {
		switch k {
		case "id", "email", "cio_id", "anonymous_id", "phone":
		default:
			return ref, herald.Errorf(herald.Invalid, field+"."+k, "is not an identifier; use id, email or cio_id")
		}
	}
	if ref.IsZero() {
		return ref, herald.Errorf(herald.Required, field, "give one of id, email or cio_id")
	}
	return ref, nil
}

// objectIdentifiers reads {object_type_id, object_id} or {cio_object_id}.
func objectIdentifiers(raw json.RawMessage, field string) (herald.ObjectRef, error) {
	m, err := object(raw, field)
	if err != nil {
		return herald.ObjectRef{}, err
	}
	if m == nil {
		return herald.ObjectRef{}, herald.Errorf(herald.Required, field, "is required: give object_type_id and object_id, or cio_object_id")
	}
	var ref herald.ObjectRef
	if v, ok := m["cio_object_id"]; ok {
		if ref.CioObjectID, err = str(v, field+".cio_object_id"); err != nil {
			return ref, err
		}
	}
	if v, ok := m["object_id"]; ok {
		if ref.ObjectID, err = str(v, field+".object_id"); err != nil {
			return ref, err
		}
	}
	if v, ok := m["object_type_id"]; ok && ref.CioObjectID == "" {
		if ref.TypeID, err = typeID(v, field+".object_type_id"); err != nil {
			return ref, err
		}
	}
	if ref.CioObjectID == "" && ref.ObjectID == "" {
		return ref, herald.Errorf(herald.Required, field+".object_id", "is required (or give cio_object_id)")
	}
	return ref, nil
}

// relationshipItem is one element of cio_relationships.
type relationshipItem struct {
	Identifiers            json.RawMessage `json:"identifiers"`
	RelationshipAttributes json.RawMessage `json:"relationship_attributes"`
}

func relationshipItems(raw json.RawMessage, field string) ([]relationshipItem, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []relationshipItem
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, herald.Errorf(herald.Invalid, field, "must be an array of {identifiers, relationship_attributes}")
	}
	return items, nil
}

// toObjects reads cio_relationships that relate a person to objects.
func toObjects(raw json.RawMessage, field string) ([]herald.PersonRelationship, error) {
	items, err := relationshipItems(raw, field)
	if err != nil {
		return nil, err
	}
	out := make([]herald.PersonRelationship, len(items))
	for i, it := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		if out[i].Object, err = objectIdentifiers(it.Identifiers, f+".identifiers"); err != nil {
			return nil, err
		}
		if out[i].Attributes, err = herald.ParseAttributes(it.RelationshipAttributes, f+".relationship_attributes"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// toPeople reads cio_relationships that relate an object to people.
func toPeople(raw json.RawMessage, field string, anonymous bool) ([]herald.ObjectRelationship, error) {
	items, err := relationshipItems(raw, field)
	if err != nil {
		return nil, err
	}
	out := make([]herald.ObjectRelationship, len(items))
	for i, it := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		if out[i].Person, err = personIdentifiers(it.Identifiers, f+".identifiers", anonymous); err != nil {
			return nil, err
		}
		if out[i].Attributes, err = herald.ParseAttributes(it.RelationshipAttributes, f+".relationship_attributes"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if e, ok := err.(*json.SyntaxError); ok {
		se = e
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if e, ok := err.(*json.UnmarshalTypeError); ok {
		te = e
		return fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}
