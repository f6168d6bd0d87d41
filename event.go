package herald

import (
	"encoding/json"
	"strings"
)

// EventType distinguishes custom events from page and screen views.
type EventType string

// Event types, as the Track API names them.
const (
	EventCustom EventType = "event"
	EventPage   EventType = "page"
	EventScreen EventType = "screen"
)

// Event is something a person (or an anonymous visitor) did.
type Event struct {
	Person      PersonRef       // empty for anonymous events
	AnonymousID string          // set for anonymous events
	Name        string          // trimmed; ≤ MaxEventNameBytes
	Type        EventType       // event, page or screen
	DedupeID    string          // optional client id; a repeat of a known id is ignored
	Timestamp   int64           // unix seconds; 0 means now
	Data        json.RawMessage // a JSON object or nil
}

// ValidateEvent normalises e and checks its name, type and data size.
func ValidateEvent(e *Event) error {
	e.Name = strings.TrimSpace(e.Name)
	if e.Type == "" {
		e.Type = EventCustom
	}
	switch e.Type {
	case EventCustom, EventPage, EventScreen:
	default:
		return Errorf(Invalid, "type", "must be event, page or screen, got %q", e.Type)
	}
	if e.Name == "" {
		return Errorf(Required, "name", "is required")
	}
	if len(e.Name) > MaxEventNameBytes {
		return Errorf(TooLong, "name", "is %d bytes; at most %d are allowed", len(e.Name), MaxEventNameBytes)
	}
	if len(e.DedupeID) > MaxIdentifierBytes {
		return Errorf(TooLong, "id", "is %d bytes; at most %d are allowed", len(e.DedupeID), MaxIdentifierBytes)
	}
	if len(e.Data) > MaxEventDataBytes {
		return Errorf(TooLarge, "data", "is %d bytes; at most %d are allowed", len(e.Data), MaxEventDataBytes)
	}
	if len(e.Data) > 0 && !Removes(e.Data) {
		var m map[string]json.RawMessage
		if json.Unmarshal(e.Data, &m) != nil {
			return Errorf(Invalid, "data", "must be a JSON object")
		}
	} else {
		e.Data = nil
	}
	// An event with neither a person nor an anonymous id is kept, as Customer.io keeps
	// anonymous invite events that carry only data.recipient.
	return CheckTimestamp("timestamp", e.Timestamp)
}
