package herald

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Step kinds of a workflow.
const (
	StepSend      = "send"        // send a message (any channel)
	StepDelay     = "delay"       // wait a duration
	StepWindow    = "time_window" // wait until inside hours / days
	StepWaitUntil = "wait_until"  // wait for a condition; branch 0 when met, 1 on timeout
	StepBranch    = "branch"      // true/false: branch 0 (then) or 1 (else)
	StepSplit     = "split"       // multi-split: the first branch whose condition holds
	StepRandom    = "random"      // random split by weights
	StepUpdate    = "update"      // update attributes of the person, trigger object, relationship or journey
	StepSegment   = "segment"     // add to / remove from a manual segment
	StepExit      = "exit"        // leave the campaign
)

// Step is one workflow step. A journey's position is a path of indexes: the step's index in
// the workflow, then for each branch entered the branch's index and the step's index in it
// ([2, 1, 0]: the first step of the second branch of the third step).
type Step struct {
	ID   string // unique in the campaign; "1", "3.2.1" … when not given
	Kind string

	Send      *SendStep
	Delay     time.Duration
	Window    *TimeWindow
	Condition *StepCond // branch, wait_until
	Timeout   time.Duration
	Branches  []Branch // branch: then, else; wait_until: met, timed out; split and random: in order
	Update    *UpdateStep
	Segment   *SegmentStep
}

// Branch is one way out of a branching step.
type Branch struct {
	Condition *StepCond // split: when it holds (nil: the default branch)
	Weight    int       // random
	Steps     []*Step
}

// SendStep is a message: a channel and its Liquid fields, or a stored template.
type SendStep struct {
	Channel       Channel
	Template      string
	Fields        map[string]string
	Transactional bool
}

// StepCond is a condition in a workflow: on the person (the segment condition language), on
// the trigger object's and relationship's attributes and on journey attributes; all given
// parts must hold.
type StepCond struct {
	Person       *Cond
	Object       *Cond
	Relationship *Cond
	Journey      *Cond
}

// TimeWindow lets a journey go on only within hours [From, To) on Days, in Timezone.
type TimeWindow struct {
	From, To int                   // hours 0–24
	Days     map[time.Weekday]bool // empty: every day
	Timezone string                // IANA name; "" means UTC
}

// UpdateStep sets attributes: Target is person, object (the trigger object), relationship
// (the person's relationship to it) or journey. A null value removes one.
type UpdateStep struct {
	Target     string
	Attributes Attributes
}

// SegmentStep adds the person to or removes them from a manual segment.
type SegmentStep struct {
	ID     int64
	Remove bool
}

// MaxWorkflowSteps bounds a campaign's workflow.
const MaxWorkflowSteps = 500

func parseSteps(raws []json.RawMessage, path, prefix string, ids map[string]bool, depth int) ([]*Step, error) {
	if depth > MaxFilterDepth {
		return nil, Errorf(Invalid, path, "steps are nested deeper than %d levels", MaxFilterDepth)
	}
	var out []*Step
	for i, raw := range raws {
		at := fmt.Sprintf("%s[%d]", path, i)
		s, err := parseStep(raw, at, stepPath(prefix, i), ids, depth)
		if err != nil {
			return nil, err
		}
		if len(ids) > MaxWorkflowSteps {
			return nil, Errorf(TooMany, at, "the workflow has more than %d steps", MaxWorkflowSteps)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseStep(raw json.RawMessage, path, defaultID string, ids map[string]bool, depth int) (*Step, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, Errorf(Invalid, path, "must be a step object such as {\"send\": …} or {\"delay\": \"24h\"}")
	}
	s := &Step{ID: defaultID}
	if id, ok := m["id"]; ok {
		delete(m, "id")
		if err := json.Unmarshal(id, &s.ID); err != nil || strings.TrimSpace(s.ID) == "" || len(s.ID) > 100 {
			return nil, Errorf(Invalid, path+".id", "must be a non-empty string of at most 100 bytes")
		}
	}
	if ids[s.ID] {
		return nil, Errorf(Invalid, path+".id", "step id %q is used twice", s.ID)
	}
	ids[s.ID] = true
	var timeout json.RawMessage
	if t, ok := m["timeout"]; ok {
		timeout = t
		delete(m, "timeout")
	}
	var onTimeout json.RawMessage
	if t, ok := m["on_timeout"]; ok {
		onTimeout = t
		delete(m, "on_timeout")
	}
	if len(m) != 1 {
		return nil, Errorf(Invalid, path, "must have exactly one step kind (send, delay, time_window, wait_until, branch, split, random, update, segment, exit), got %v", sortedKeys(m))
	}
	for kind, v := range m {
		s.Kind = kind
		at := path + "." + kind
		var err error
		switch kind {
		case StepSend:
			s.Send, err = parseSendStep(v, at)
		case StepDelay:
			s.Delay, err = parseDuration(v, at)
		case StepWindow:
			s.Window, err = parseWindow(v, at)
		case StepWaitUntil:
			if s.Condition, err = parseStepCond(v, at); err != nil {
				return nil, err
			}
			if s.Timeout, err = parseDuration(timeout, path+".timeout"); err != nil {
				return nil, err
			}
			var late []*Step
			if present(onTimeout) {
				var raws []json.RawMessage
				if json.Unmarshal(onTimeout, &raws) != nil {
					return nil, Errorf(Invalid, path+".on_timeout", "must be an array of steps")
				}
				if late, err = parseSteps(raws, path+".on_timeout", s.ID+".timeout", ids, depth+1); err != nil {
					return nil, err
				}
			}
			s.Branches = []Branch{{}, {Steps: late}}
		case StepBranch:
			var in struct {
				If   json.RawMessage   `json:"if"`
				Then []json.RawMessage `json:"then"`
				Else []json.RawMessage `json:"else"`
			}
			if err := strictDecode(v, &in); err != nil {
				return nil, Errorf(Invalid, at, "must be {if, then, else}: %v", err)
			}
			if s.Condition, err = parseStepCond(in.If, at+".if"); err != nil {
				return nil, err
			}
			then, err := parseSteps(in.Then, at+".then", s.ID+".then", ids, depth+1)
			if err != nil {
				return nil, err
			}
			els, err := parseSteps(in.Else, at+".else", s.ID+".else", ids, depth+1)
			if err != nil {
				return nil, err
			}
			s.Branches = []Branch{{Steps: then}, {Steps: els}}
		case StepSplit, StepRandom:
			s.Branches, err = parseBranches(v, at, s.ID, kind, ids, depth)
		case StepUpdate:
			s.Update, err = parseUpdate(v, at)
		case StepSegment:
			var in struct {
				ID     json.RawMessage `json:"id"`
				Action string          `json:"action"`
			}
			if err := strictDecode(v, &in); err != nil {
				return nil, Errorf(Invalid, at, "must be {id, action: add|remove}")
			}
			n, err := Int64Value(in.ID, at+".id")
			if err != nil || n <= 0 {
				return nil, Errorf(Invalid, at+".id", "must be a manual segment's id")
			}
			if in.Action != "add" && in.Action != "remove" {
				return nil, Errorf(Invalid, at+".action", "must be add or remove, got %q", in.Action)
			}
			s.Segment = &SegmentStep{ID: n, Remove: in.Action == "remove"}
		case StepExit:
		default:
			return nil, Errorf(Invalid, path, "unknown step %q; use send, delay, time_window, wait_until, branch, split, random, update, segment or exit", kind)
		}
		if err != nil {
			return nil, err
		}
	}
	if (timeout != nil || onTimeout != nil) && s.Kind != StepWaitUntil {
		return nil, Errorf(Invalid, path+".timeout", "applies to wait_until steps only")
	}
	return s, nil
}

func parseSendStep(raw json.RawMessage, path string) (*SendStep, error) {
	var in struct {
		Channel       string            `json:"channel"`
		Template      string            `json:"template"`
		Fields        map[string]string `json:"fields"`
		Transactional bool              `json:"transactional"`
	}
	if err := strictDecode(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be {channel, fields | template}: %v", err)
	}
	ch := Channel(in.Channel)
	if !ch.Valid() {
		return nil, Errorf(Invalid, path+".channel", "must be email, sms, push, in_app or webhook, got %q", in.Channel)
	}
	if in.Template == "" && len(in.Fields) == 0 {
		return nil, Errorf(Required, path+".fields", "give the message's fields (subject, body …) or a stored template")
	}
	return &SendStep{Channel: ch, Template: in.Template, Fields: in.Fields, Transactional: in.Transactional}, nil
}

func parseStepCond(raw json.RawMessage, path string) (*StepCond, error) {
	var in struct {
		Person, Object, Relationship, Journey json.RawMessage
	}
	if !present(raw) {
		return nil, Errorf(Required, path, "is required: {person?, object?, relationship?, journey?}")
	}
	if err := strictDecode(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be {person?, object?, relationship?, journey?}: %v", err)
	}
	c := &StepCond{}
	var err error
	if present(in.Person) {
		if c.Person, err = ParseConditions(in.Person, path+".person"); err != nil {
			return nil, err
		}
	}
	for _, part := range []struct {
		raw   json.RawMessage
		into  **Cond
		scope string
	}{{in.Object, &c.Object, "object"}, {in.Relationship, &c.Relationship, "relationship"}, {in.Journey, &c.Journey, "journey"}} {
		if present(part.raw) {
			p := condParser{}
			if *part.into, err = p.node(part.raw, path+"."+part.scope, 0, part.scope); err != nil {
				return nil, err
			}
		}
	}
	if c.Person == nil && c.Object == nil && c.Relationship == nil && c.Journey == nil {
		return nil, Errorf(Required, path, "needs at least one of person, object, relationship, journey")
	}
	return c, nil
}

func parseBranches(raw json.RawMessage, path, id, kind string, ids map[string]bool, depth int) ([]Branch, error) {
	var in []struct {
		If     json.RawMessage   `json:"if"`
		Weight int               `json:"weight"`
		Steps  []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(raw, &in); err != nil || len(in) < 2 {
		return nil, Errorf(Invalid, path, "must be an array of at least two branches {if | weight, steps}")
	}
	var out []Branch
	for i, b := range in {
		at := fmt.Sprintf("%s[%d]", path, i)
		var br Branch
		var err error
		if kind == StepSplit && present(b.If) {
			if br.Condition, err = parseStepCond(b.If, at+".if"); err != nil {
				return nil, err
			}
		}
		if kind == StepSplit && !present(b.If) && i != len(in)-1 {
			return nil, Errorf(Required, at+".if", "only the last branch of a split may have no condition (the default)")
		}
		if kind == StepRandom {
			if b.Weight <= 0 {
				return nil, Errorf(Invalid, at+".weight", "must be a positive whole number")
			}
			br.Weight = b.Weight
		}
		if br.Steps, err = parseSteps(b.Steps, at+".steps", id+"."+strconv.Itoa(i+1), ids, depth+1); err != nil {
			return nil, err
		}
		out = append(out, br)
	}
	return out, nil
}

func parseUpdate(raw json.RawMessage, path string) (*UpdateStep, error) {
	var in struct {
		Target     string          `json:"target"`
		Attributes json.RawMessage `json:"attributes"`
	}
	if err := strictDecode(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be {target, attributes}: %v", err)
	}
	switch in.Target {
	case "person", "object", "relationship", "journey":
	default:
		return nil, Errorf(Invalid, path+".target", "must be person, object, relationship or journey, got %q", in.Target)
	}
	attrs, err := ParseAttributes(in.Attributes, path+".attributes")
	if err != nil {
		return nil, err
	}
	if len(attrs) == 0 {
		return nil, Errorf(Required, path+".attributes", "must set at least one attribute")
	}
	kind := in.Target
	if kind == "journey" {
		kind = "person"
	}
	if err := ValidateAttributes(kind, attrs, path+".attributes"); err != nil {
		return nil, err
	}
	return &UpdateStep{Target: in.Target, Attributes: attrs}, nil
}

// parseDuration reads "90s", "15m", "24h", "3d" or a number of seconds.
func parseDuration(raw json.RawMessage, path string) (time.Duration, error) {
	s := strings.TrimSpace(ValueString(raw))
	if s == "" {
		return 0, Errorf(Required, path, "is required: a duration such as 30m, 24h or 3d")
	}
	if n, ok := ParseNumber(s); ok && n >= 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, ok := ParseNumber(days); ok && n >= 0 {
			return time.Duration(n * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, Errorf(Invalid, path, "must be a duration such as 30m, 24h or 3d, got %q", s)
	}
	return d, nil
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func parseWindow(raw json.RawMessage, path string) (*TimeWindow, error) {
	var in struct {
		From     *int     `json:"from_hour"`
		To       *int     `json:"to_hour"`
		Days     []string `json:"days"`
		Timezone string   `json:"timezone"`
	}
	if err := strictDecode(raw, &in); err != nil {
		return nil, Errorf(Invalid, path, "must be {from_hour, to_hour, days?, timezone?}: %v", err)
	}
	if in.From == nil || in.To == nil || *in.From < 0 || *in.To > 24 || *in.From >= *in.To {
		return nil, Errorf(Invalid, path+".from_hour", "from_hour and to_hour must be hours with 0 ≤ from_hour < to_hour ≤ 24")
	}
	w := &TimeWindow{From: *in.From, To: *in.To, Days: map[time.Weekday]bool{}, Timezone: in.Timezone}
	for i, d := range in.Days {
		wd, ok := weekdays[strings.ToLower(d)[:min(3, len(d))]]
		if !ok {
			return nil, Errorf(Invalid, fmt.Sprintf("%s.days[%d]", path, i), "must be a weekday such as mon or monday, got %q", d)
		}
		w.Days[wd] = true
	}
	if _, err := w.Location(); err != nil {
		return nil, Errorf(Invalid, path+".timezone", "is not a known time zone: %q", in.Timezone)
	}
	return w, nil
}

// Location is the window's time zone.
func (w *TimeWindow) Location() (*time.Location, error) {
	if w.Timezone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(w.Timezone)
}

// NextOpen returns t when it is inside the window, else the next time the window opens.
func (w *TimeWindow) NextOpen(t time.Time) time.Time {
	loc, _ := w.Location()
	lt := t.In(loc)
	for i := 0; i < 8*24; i++ { // hour by hour, at most eight days ahead
		if (len(w.Days) == 0 || w.Days[lt.Weekday()]) && lt.Hour() >= w.From && lt.Hour() < w.To {
			if i == 0 {
				return t
			}
			return lt
		}
		lt = time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour()+1, 0, 0, 0, loc)
	}
	return t
}
