package herald

import (
	"encoding/json"
	"strconv"
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
func DiffData(d map[string]Diff) json.RawMessage {
	b, _ := json.Marshal(d)
	return b
}
