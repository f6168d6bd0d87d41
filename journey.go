package herald

import "encoding/json"

// Journey states.
const (
	JourneyActive    = "active"
	JourneyCompleted = "completed"
	JourneyExited    = "exited"
)

// Journey is one person's way through one version of a campaign: where they are (Position,
// see Step), when the next step runs, and the context the trigger gave.
type Journey struct {
	ID          int64           `json:"id"`
	WorkspaceID int64           `json:"-"`
	CampaignID  int64           `json:"campaign_id"`
	Version     int64           `json:"version"`
	PersonPK    int64           `json:"-"`
	Object      *ObjectRef      `json:"-"`                 // the trigger object, for object and relationship triggers
	Trigger     json.RawMessage `json:"trigger,omitempty"` // see JourneyTrigger
	DedupeKey   string          `json:"-"`
	State       string          `json:"state"`
	Position    []int           `json:"position"`
	Visits      int64           `json:"-"` // steps run so far: with the position, names a send uniquely
	Attributes  Attributes      `json:"attributes"`
	NextAt      int64           `json:"next_at"`
	Deadline    int64           `json:"-"` // a wait_until step's timeout
	ExitReason  string          `json:"exit_reason,omitempty"`
	CreatedAt   int64           `json:"created_at"`
	UpdatedAt   int64           `json:"updated_at"`
}

// JourneyTrigger is what started a journey, for its messages' Liquid (event.*, trigger.*).
type JourneyTrigger struct {
	Event *EventContext  `json:"event,omitempty"`
	Data  map[string]any `json:"data,omitempty"` // API-triggered data
	Seq   int64          `json:"seq,omitempty"`  // the change that started it
	// PersonPK is the person whose change started it, when that is not the journey's person
	// (a relationship trigger whose audience is the object's other people).
	PersonPK int64 `json:"person_pk,omitempty"`
}

// JourneyMetric is one count of a campaign step: entered, completed, exited, sent, failed.
type JourneyMetric struct {
	StepID string `json:"step_id"`
	Metric string `json:"metric"`
	Count  int64  `json:"count"`
}

// StepCount is one count a run of a journey adds to its campaign's metrics.
type StepCount struct {
	StepID, Metric string
}
