package herald

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Campaign states, as Customer.io's App API names them.
const (
	CampaignDraft   = "draft"
	CampaignRunning = "running"
	CampaignStopped = "stopped"
)

// Trigger types of a campaign.
const (
	TriggerEvent               = "event"
	TriggerSegmentEntered      = "segment_entered"
	TriggerSegmentExited       = "segment_exited"
	TriggerAttributeChanged    = "attribute_changed"
	TriggerObjectCreated       = "object_created"
	TriggerObjectUpdated       = "object_updated"
	TriggerRelationshipAdded   = "relationship_added"
	TriggerRelationshipChanged = "relationship_changed"
	TriggerRelationshipRemoved = "relationship_removed"
	TriggerAPI                 = "api"  // POST /v1/campaigns/{id}/triggers
	TriggerDate                = "date" // a timestamp attribute of a person, object or relationship comes due
)

// Campaign is a stored campaign: its definition at Version, and its state. Running journeys
// keep the version they started on.
type Campaign struct {
	ID          int64           `json:"id"`
	WorkspaceID int64           `json:"-"`
	Name        string          `json:"name"`
	State       string          `json:"state"`
	Version     int64           `json:"version"`
	Definition  json.RawMessage `json:"definition"`
	CreatedAt   int64           `json:"created"`
	UpdatedAt   int64           `json:"updated"`
	StartedAt   int64           `json:"first_started"`
}

// CampaignDef is a parsed campaign definition: trigger, entry filter, workflow, exit rule and
// frequency.
type CampaignDef struct {
	Name      string
	Trigger   Trigger
	Filter    *Cond  // who may enter, checked at entry (person conditions)
	Exit      string // "filter" (default): leave when the filter stops holding, checked before each send; "goal"; "goal_or_filter"; "never"
	Goal      *Goal  // conversion goal (optional)
	Frequency string // "once" (default; "every_time" for API triggers), "every_time", "once_per_object"
	Workflow  []*Step
}

// Goal is a campaign's conversion goal: the person performs Event, or enters SegmentID,
// within Within of a message the campaign sent them; that message's delivery is marked
// converted (and, with exit goal or goal_or_filter, the journey ends).
type Goal struct {
	Event     string
	SegmentID int64
	Within    time.Duration
}

// MaxGoalWindow is the longest conversion window, as Customer.io's.
const MaxGoalWindow = 90 * 24 * time.Hour

// Trigger says which changes start journeys, and for object and relationship triggers who
// enters.
type Trigger struct {
	Type         string
	Event        string          // event: its name
	Data         *Cond           // event: conditions on its data
	SegmentID    int64           // segment_entered / segment_exited
	Attribute    string          // attribute_changed: the person attribute
	To           json.RawMessage // attribute_changed: the new value it must have (optional)
	TypeID       int             // object and relationship triggers
	Changed      []string        // object_updated: fires only when one of these attributes changed
	Object       *Cond           // the object's attributes after the change
	Relationship *Cond           // relationship triggers: the relationship's attributes
	Audience     Audience

	// Date triggers: the timestamp attribute Attribute of On (person, object or
	// relationship; TypeID for the last two) comes due, shifted by Offset ("-24h": a day
	// before); Recurrence once, monthly or yearly (on the date's day and month); Hour, when
	// set (≥ 0), moves the time to that hour in Timezone (an IANA name, or "person" for the
	// person's timezone attribute).
	On         string
	Offset     time.Duration
	Recurrence string
	Hour       int
	Timezone   string
}

// DateValue is one entity's timestamp attribute, for date triggers: a person's, an object's
// (with ObjectID) or a relationship's (with both). Timezone is the person's timezone
// attribute, when asked for.
type DateValue struct {
	PersonPK int64
	ObjectID string
	Value    string
	Timezone string
}

// Audience is who enters from an object or relationship trigger. There is no cap: every
// matching person enters, in batches.
type Audience struct {
	// Who: "related" (everyone related to the object, the default for object triggers) or
	// "trigger_person" (only the person whose relationship changed, the default for
	// relationship triggers).
	Who          string
	People       *Cond // person conditions the entering people must meet
	Relationship *Cond // conditions on their relationship to the object ("related" only)
}

// ParseCampaign parses and validates a campaign definition; errors name the JSON path of the
// bad field, under path.
func ParseCampaign(raw json.RawMessage, path string) (*CampaignDef, error) {
	var in struct {
		Name      string          `json:"name"`
		Trigger   json.RawMessage `json:"trigger"`
		Filter    json.RawMessage `json:"filter"`
		Exit      string          `json:"exit"`
		Frequency string          `json:"frequency"`
		Goal      *struct {
			Event     string          `json:"event"`
			SegmentID json.RawMessage `json:"segment_id"`
			Within    json.RawMessage `json:"within"`
		} `json:"goal"`
		Workflow []json.RawMessage `json:"workflow"`
	}
	if err := strictDecode(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be a campaign: {name, trigger, filter?, exit?, frequency?, workflow}: %v", err)
	}
	d := &CampaignDef{Name: strings.TrimSpace(in.Name), Exit: in.Exit, Frequency: in.Frequency}
	if d.Name == "" {
		return nil, Errorf(Required, path+".name", "is required")
	}
	var err error
	if d.Trigger, err = parseTrigger(in.Trigger, path+".trigger"); err != nil {
		return nil, err
	}
	if present(in.Filter) {
		if d.Filter, err = ParseConditions(in.Filter, path+".filter"); err != nil {
			return nil, err
		}
	}
	if g := in.Goal; g != nil {
		d.Goal = &Goal{Event: g.Event, Within: 7 * 24 * time.Hour}
		if present(g.SegmentID) {
			n, err := Int64Value(g.SegmentID, path+".goal.segment_id")
			if err != nil || n <= 0 {
				return nil, Errorf(Invalid, path+".goal.segment_id", "must be a segment id")
			}
			d.Goal.SegmentID = n
		}
		if (d.Goal.Event == "") == (d.Goal.SegmentID == 0) {
			return nil, Errorf(Invalid, path+".goal", "give exactly one of event and segment_id")
		}
		if present(g.Within) {
			if d.Goal.Within, err = parseDuration(g.Within, path+".goal.within"); err != nil {
				return nil, err
			}
		}
		if d.Goal.Within <= 0 || d.Goal.Within > MaxGoalWindow {
			return nil, Errorf(Invalid, path+".goal.within", "must be a duration of at most 90 days")
		}
	}
	switch d.Exit {
	case "":
		d.Exit = "filter"
	case "filter", "never":
	case "goal", "goal_or_filter":
		if d.Goal == nil {
			return nil, Errorf(Invalid, path+".exit", "%s needs a goal", d.Exit)
		}
	default:
		return nil, Errorf(Invalid, path+".exit", "must be filter, goal, goal_or_filter or never, got %q", d.Exit)
	}
	switch d.Frequency {
	case "":
		d.Frequency = "once"
		if d.Trigger.Type == TriggerAPI || d.Trigger.Type == TriggerDate {
			d.Frequency = "every_time" // each API trigger, each date that comes due, is an occasion of its own
		}
	case "once", "every_time", "once_per_object":
	default:
		return nil, Errorf(Invalid, path+".frequency", "must be once, every_time or once_per_object, got %q", d.Frequency)
	}
	if d.Frequency == "once_per_object" && d.Trigger.TypeID == 0 {
		return nil, Errorf(Invalid, path+".frequency", "once_per_object needs an object or relationship trigger")
	}
	if len(in.Workflow) == 0 {
		return nil, Errorf(Required, path+".workflow", "must have at least one step")
	}
	ids := map[string]bool{}
	if d.Workflow, err = parseSteps(in.Workflow, path+".workflow", "", ids, 0); err != nil {
		return nil, err
	}
	if d.Trigger.TypeID == 0 {
		if at := d.objectStep(d.Workflow, path+".workflow"); at != "" {
			return nil, Errorf(Invalid, at, "updates or reads a trigger object, and this campaign's trigger has none")
		}
	}
	return d, nil
}

func parseTrigger(raw json.RawMessage, path string) (Trigger, error) {
	var in struct {
		Type         string          `json:"type"`
		Name         string          `json:"name"`
		Data         json.RawMessage `json:"data"`
		SegmentID    json.RawMessage `json:"segment_id"`
		Attribute    string          `json:"attribute"`
		To           json.RawMessage `json:"to"`
		TypeID       json.RawMessage `json:"type_id"`
		Changed      []string        `json:"changed"`
		Object       json.RawMessage `json:"object"`
		Relationship json.RawMessage `json:"relationship"`
		On           string          `json:"on"`
		Offset       json.RawMessage `json:"offset"`
		Recurrence   string          `json:"recurrence"`
		Hour         *int            `json:"hour"`
		Timezone     string          `json:"timezone"`
		Audience     *struct {
			Who          string          `json:"who"`
			People       json.RawMessage `json:"people"`
			Relationship json.RawMessage `json:"relationship"`
		} `json:"audience"`
	}
	if !present(raw) {
		return Trigger{}, Errorf(Required, path, "is required")
	}
	if err := strictDecode(raw, &in); err != nil {
		return Trigger{}, Errorf(Invalid, path, "must be a trigger {type, …}: %v", err)
	}
	t := Trigger{Type: in.Type, Event: in.Name, Attribute: in.Attribute, To: in.To, Changed: in.Changed}
	attrTree := func(raw json.RawMessage, at string) (*Cond, error) {
		if !present(raw) {
			return nil, nil
		}
		p := condParser{}
		return p.node(raw, at, 0, "object")
	}
	var err error
	switch t.Type {
	case TriggerEvent:
		if t.Event == "" {
			return t, Errorf(Required, path+".name", "is required: the event's name")
		}
		if t.Data, err = attrTree(in.Data, path+".data"); err != nil {
			return t, err
		}
	case TriggerSegmentEntered, TriggerSegmentExited:
		n, err := Int64Value(in.SegmentID, path+".segment_id")
		if err != nil || n <= 0 {
			return t, Errorf(Invalid, path+".segment_id", "must be a segment id")
		}
		t.SegmentID = n
	case TriggerAttributeChanged:
		if t.Attribute == "" {
			return t, Errorf(Required, path+".attribute", "is required: the person attribute to watch")
		}
	case TriggerObjectCreated, TriggerObjectUpdated, TriggerRelationshipAdded, TriggerRelationshipChanged, TriggerRelationshipRemoved:
		if t.TypeID, err = parseTypeID(in.TypeID, path+".type_id"); err != nil {
			return t, err
		}
		if t.Object, err = attrTree(in.Object, path+".object"); err != nil {
			return t, err
		}
		if t.Relationship, err = attrTree(in.Relationship, path+".relationship"); err != nil {
			return t, err
		}
		if len(t.Changed) > 0 && t.Type != TriggerObjectUpdated && t.Type != TriggerRelationshipChanged {
			return t, Errorf(Invalid, path+".changed", "applies to object_updated and relationship_changed triggers only")
		}
		relTrigger := strings.HasPrefix(t.Type, "relationship_")
		if t.Relationship != nil && t.Type == TriggerRelationshipRemoved {
			return t, Errorf(Invalid, path+".relationship", "does not apply to relationship_removed: the relationship is gone; use audience.people for the person")
		}
		if t.Relationship != nil && !relTrigger {
			return t, Errorf(Invalid, path+".relationship", "applies to relationship triggers only; use audience.relationship for the entering people")
		}
		t.Audience.Who = "related"
		if relTrigger {
			t.Audience.Who = "trigger_person"
		}
		if a := in.Audience; a != nil {
			switch a.Who {
			case "":
			case "related":
				t.Audience.Who = a.Who
			case "trigger_person":
				if !relTrigger {
					return t, Errorf(Invalid, path+".audience.who", "trigger_person needs a relationship trigger")
				}
				t.Audience.Who = a.Who
			default:
				return t, Errorf(Invalid, path+".audience.who", "must be related or trigger_person, got %q", a.Who)
			}
			if present(a.People) {
				if t.Audience.People, err = ParseConditions(a.People, path+".audience.people"); err != nil {
					return t, err
				}
			}
			if t.Audience.Relationship, err = attrTree(a.Relationship, path+".audience.relationship"); err != nil {
				return t, err
			}
			if t.Audience.Relationship != nil && t.Audience.Who != "related" {
				return t, Errorf(Invalid, path+".audience.relationship", "applies to the related audience only")
			}
		}
	case TriggerDate:
		if t.Attribute == "" {
			return t, Errorf(Required, path+".attribute", "is required: the timestamp attribute that comes due")
		}
		t.On, t.Recurrence, t.Timezone, t.Hour = in.On, in.Recurrence, in.Timezone, -1
		switch t.On {
		case "":
			t.On = "person"
		case "person":
		case "object", "relationship":
			if t.TypeID, err = parseTypeID(in.TypeID, path+".type_id"); err != nil {
				return t, err
			}
		default:
			return t, Errorf(Invalid, path+".on", "must be person, object or relationship, got %q", t.On)
		}
		switch t.Recurrence {
		case "":
			t.Recurrence = "once"
		case "once", "monthly", "yearly":
		default:
			return t, Errorf(Invalid, path+".recurrence", "must be once, monthly or yearly, got %q", t.Recurrence)
		}
		if present(in.Offset) {
			s := strings.TrimSpace(ValueString(in.Offset))
			neg := strings.HasPrefix(s, "-")
			d, err := parseDuration(json.RawMessage(strconv.Quote(strings.TrimLeft(s, "+-"))), path+".offset")
			if err != nil {
				return t, err
			}
			if neg {
				d = -d
			}
			t.Offset = d
		}
		if in.Hour != nil {
			if *in.Hour < 0 || *in.Hour > 23 {
				return t, Errorf(Invalid, path+".hour", "must be an hour from 0 to 23")
			}
			t.Hour = *in.Hour
		}
		if t.Timezone != "" && t.Timezone != "person" {
			if _, err := time.LoadLocation(t.Timezone); err != nil {
				return t, Errorf(Invalid, path+".timezone", "is not a known time zone: %q", t.Timezone)
			}
		}
		if t.On == "object" {
			t.Audience.Who = "related"
		}
		if a := in.Audience; a != nil {
			if t.On != "object" {
				return t, Errorf(Invalid, path+".audience", "applies to object dates only: a person's or relationship's date reaches that person")
			}
			if present(a.People) {
				if t.Audience.People, err = ParseConditions(a.People, path+".audience.people"); err != nil {
					return t, err
				}
			}
			if t.Audience.Relationship, err = attrTree(a.Relationship, path+".audience.relationship"); err != nil {
				return t, err
			}
		}
	case TriggerAPI:
	case "":
		return t, Errorf(Required, path+".type", "is required")
	default:
		return t, Errorf(Invalid, path+".type", "unknown trigger %q; use event, segment_entered, segment_exited, attribute_changed, object_created, object_updated, relationship_added, relationship_changed, relationship_removed, date or api", t.Type)
	}
	return t, nil
}

// StepIDs lists every step's id in workflow order.
func (d *CampaignDef) StepIDs() []string {
	var out []string
	var walk func([]*Step)
	walk = func(steps []*Step) {
		for _, s := range steps {
			out = append(out, s.ID)
			for _, b := range s.Branches {
				walk(b.Steps)
			}
		}
	}
	walk(d.Workflow)
	return out
}

// StepAt returns the step at a journey position (see Step), or nil.
func (d *CampaignDef) StepAt(pos []int) *Step {
	steps := d.Workflow
	for i := 0; i < len(pos); i += 2 {
		if pos[i] < 0 || pos[i] >= len(steps) {
			return nil
		}
		s := steps[pos[i]]
		if i+1 == len(pos) {
			return s
		}
		b := pos[i+1]
		if b < 0 || b >= len(s.Branches) {
			return nil
		}
		steps = s.Branches[b].Steps
	}
	return nil
}

// Next returns the position after the step at pos has finished without entering a branch;
// nil means the workflow is done.
func (d *CampaignDef) Next(pos []int) []int {
	for len(pos) > 0 {
		next := append(append([]int{}, pos[:len(pos)-1]...), pos[len(pos)-1]+1)
		if d.StepAt(next) != nil {
			return next
		}
		if len(pos) < 3 {
			return nil
		}
		pos = pos[:len(pos)-2] // the branch ended: continue after the step that branched
	}
	return nil
}

// Enter returns the position of the first step of branch b of the step at pos, or, when
// that branch is empty, the position after the branching step.
func (d *CampaignDef) Enter(pos []int, b int) []int {
	in := append(append([]int{}, pos...), b, 0)
	if d.StepAt(in) != nil {
		return in
	}
	return d.Next(pos)
}

func stepPath(prefix string, i int) string {
	if prefix == "" {
		return fmt.Sprint(i + 1)
	}
	return fmt.Sprintf("%s.%d", prefix, i+1)
}

// Broadcast is an API trigger of a campaign (POST /v1/campaigns/{id}/triggers): Liquid data
// for every recipient and who receives it: people by id or email, people each with their own
// data, a segment's members, or (none of those) everyone the campaign's filter matches.
type Broadcast struct {
	Data      map[string]any
	IDs       []string
	Emails    []string
	PerUser   []BroadcastRecipient
	SegmentID int64
}

// BroadcastRecipient is one person of per_user_data, by id or email, with their data.
type BroadcastRecipient struct {
	ID    string         `json:"id"`
	Email string         `json:"email"`
	Data  map[string]any `json:"data"`
}

// SegmentRefs returns the ids of every segment the definition names: its trigger, goal,
// filter and audience, its steps' conditions and its segment steps.
func (d *CampaignDef) SegmentRefs() []int64 {
	var out []int64
	add := func(ids ...int64) {
		for _, id := range ids {
			if id != 0 {
				out = append(out, id)
			}
		}
	}
	add(d.Trigger.SegmentID)
	if d.Goal != nil {
		add(d.Goal.SegmentID)
	}
	add(d.Filter.SegmentRefs()...)
	add(d.Trigger.Audience.People.SegmentRefs()...)
	cond := func(c *StepCond) {
		if c != nil {
			add(c.Person.SegmentRefs()...)
		}
	}
	var walk func([]*Step)
	walk = func(steps []*Step) {
		for _, s := range steps {
			cond(s.Condition)
			if s.Segment != nil {
				add(s.Segment.ID)
			}
			for _, b := range s.Branches {
				cond(b.Condition)
				walk(b.Steps)
			}
		}
	}
	walk(d.Workflow)
	return out
}

// objectStep returns the path of the first step that needs a trigger object (an update of the
// object or the relationship, a condition on either), or "".
func (d *CampaignDef) objectStep(steps []*Step, path string) string {
	needs := func(c *StepCond) bool { return c != nil && (c.Object != nil || c.Relationship != nil) }
	for i, s := range steps {
		at := fmt.Sprintf("%s[%d]", path, i)
		if s.Update != nil && (s.Update.Target == "object" || s.Update.Target == "relationship") {
			return at + ".update.target"
		}
		if needs(s.Condition) {
			return at + "." + s.Kind
		}
		for j, b := range s.Branches {
			if needs(b.Condition) {
				return fmt.Sprintf("%s.%s[%d]", at, s.Kind, j)
			}
			if p := d.objectStep(b.Steps, fmt.Sprintf("%s.%s[%d]", at, s.Kind, j)); p != "" {
				return p
			}
		}
	}
	return ""
}
