package herald

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Change is one record of the activity log, which is also the ordered feed the segment and
// journey engines consume. Seq orders changes in commit order within a store.
type Change struct {
	Seq         int64           `json:"seq"`
	WorkspaceID int64           `json:"workspace_id"`
	Type        string          `json:"type"`
	Timestamp   int64           `json:"timestamp"`
	PersonPK    int64           `json:"-"`
	Customer    *Identifiers    `json:"customer_identifiers,omitempty"`
	Object      *ObjectIdentity `json:"object,omitempty"`
	Name        string          `json:"name,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	// Quiet marks a change written with triggers off (an import that asked not to start
	// journeys): journeys must not start from it; segment membership still follows it.
	Quiet bool `json:"quiet,omitempty"`
}

// Activity types, named as Customer.io names them.
const (
	ActProfileCreate        = "profile_create"
	ActProfileDelete        = "profile_delete"
	ActProfileMerge         = "profile_merge"
	ActAttributeChange      = "attribute_change"
	ActFailedAttrChange     = "failed_attribute_change"
	ActAddRelationship      = "add_relationship"
	ActDeleteRelationship   = "delete_relationship"
	ActRelationshipAttrChg  = "relationship_attribute_change"
	ActEvent                = "event"
	ActPage                 = "page"
	ActScreen               = "screen"
	ActDeviceChange         = "device_change"
	ActSuppress             = "profile_suppress"
	ActUnsuppress           = "profile_unsuppress"
	ActAnonymousEventMerged = "anon_merge"
)

// ObjectActivity returns the per-type object activity name, "_o:<type>:<what>".
func ObjectActivity(typeID int, what string) string {
	return "_o:" + strconv.Itoa(typeID) + ":" + what
}

// RelationshipActivity returns the per-type relationship activity name, "_r:<type>:<what>".
func RelationshipActivity(typeID int, what string) string {
	return "_r:" + strconv.Itoa(typeID) + ":" + what
}

// DiffData encodes an attribute diff as a change's data: {attr: {from, to}}.
// It writes what json.Marshal would (names in order), without reflection and without escaping
// HTML in the values, which are stored as they came.
func DiffData(d map[string]Diff) json.RawMessage {
	if d == nil {
		return json.RawMessage("null")
	}
	names := sortedKeys(d)
	n := 2
	for _, k := range names {
		n += len(k) + len(d[k].From) + len(d[k].To) + 24
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, JSONString(k)...)
		b = append(b, ':')
		b = append(b, `{"from":`...)
		b = appendRaw(b, d[k].From)
		b = append(b, `,"to":`...)
		b = appendRaw(b, d[k].To)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendRaw(b []byte, v json.RawMessage) []byte {
	if len(v) == 0 {
		return append(b, "null"...)
	}
	return append(b, v...)
}

// ObjectScoped returns how a change reads in an object's activity log: a relationship change is
// recorded once, naming both sides, and an object shows it as _o:<type>:add_relationship (or
// delete_relationship), as Customer.io does; other changes read the same everywhere.
func (c Change) ObjectScoped() string {
	if c.Object != nil && (c.Type == ActAddRelationship || c.Type == ActDeleteRelationship) {
		return ObjectActivity(c.Object.TypeID, c.Type)
	}
	return c.Type
}

// RelationshipTypeFilter maps an object-scoped relationship type (_o:<type>:add_relationship)
// to the recorded type and the object type it narrows to; ok is false for other types.
func RelationshipTypeFilter(t string) (recorded string, typeID int, ok bool) {
	rest, found := strings.CutPrefix(t, "_o:")
	if !found {
		return "", 0, false
	}
	id, what, found := strings.Cut(rest, ":")
	n, err := strconv.Atoi(id)
	if !found || err != nil || (what != ActAddRelationship && what != ActDeleteRelationship) {
		return "", 0, false
	}
	return what, n, true
}
