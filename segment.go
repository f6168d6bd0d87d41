package herald

import (
	"encoding/json"
	"strings"
)

// Segment types, as Customer.io's App API names them.
const (
	SegmentDynamic = "dynamic" // data-driven: membership follows Conditions
	SegmentManual  = "manual"  // membership only by API, UI or workflow step
)

// Segment build states: a data-driven segment is "build" until its first full evaluation
// over everyone (and after every change of its conditions) has finished.
const (
	SegmentBuilding = "build"
	SegmentFinished = "finished"
)

// Activity types of segment membership; their Data is {"segment_id": n}.
const (
	ActSegmentEntered = "segment_entered"
	ActSegmentExited  = "segment_exited"
)

// Segment is a set of people: data-driven (Conditions) or manual.
type Segment struct {
	ID          int64           `json:"id"`
	WorkspaceID int64           `json:"-"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	Conditions  json.RawMessage `json:"conditions,omitempty"`
	State       string          `json:"state"`
	Progress    int             `json:"progress"` // percent of the current build
	// Version counts changes of Conditions; BuiltVersion is the version the last finished
	// build evaluated.
	Version      int64 `json:"-"`
	BuiltVersion int64 `json:"-"`
	CreatedAt    int64 `json:"created_at"`
	UpdatedAt    int64 `json:"updated_at"`
}

// Parsed returns the segment's condition tree (nil for a manual segment).
func (s *Segment) Parsed() (*Cond, error) {
	if s.Type != SegmentDynamic {
		return nil, nil
	}
	return ParseConditions(s.Conditions, "conditions")
}

// ValidateSegment checks a segment's name, description and conditions, and sets its type.
func ValidateSegment(s *Segment) error {
	s.Name = strings.TrimSpace(s.Name)
	switch {
	case s.Name == "":
		return Errorf(Required, "segment.name", "is required")
	case len(s.Name) > 255:
		return Errorf(TooLong, "segment.name", "is longer than 255 bytes")
	case len(s.Description) > 10_000:
		return Errorf(TooLong, "segment.description", "is longer than 10000 bytes")
	}
	if !present(s.Conditions) {
		s.Type, s.Conditions = SegmentManual, nil
		return nil
	}
	s.Type = SegmentDynamic
	_, err := ParseConditions(s.Conditions, "segment.conditions")
	return err
}

// SegmentMembership adds people to and removes them from a segment. The segment engine writes
// it for data-driven segments (by PK); the Track API for manual ones (by Refs, Manual set).
// Each change of membership records segment_entered or segment_exited.
type SegmentMembership struct {
	SegmentID int64
	Manual    bool // refuse a data-driven segment: only the engine changes those
	Add       []PersonRef
	Remove    []PersonRef
	AddPKs    []int64
	RemovePKs []int64
	Missing   []PersonRef // set by the write path: refs that address nobody
}

// Validate checks the op's shape.
func (op *SegmentMembership) Validate() error {
	if op.SegmentID <= 0 {
		return Errorf(Invalid, "segment_id", "must be a segment id")
	}
	for i, r := range append(append([]PersonRef{}, op.Add...), op.Remove...) {
		if r.IsZero() {
			return Errorf(Required, "ids", "item %d is empty", i)
		}
		if len(r.Value) > MaxIdentifierBytes {
			return Errorf(TooLong, "ids", "item %d is longer than %d bytes", i, MaxIdentifierBytes)
		}
	}
	return nil
}
