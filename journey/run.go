package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"strconv"

	"github.com/heraldhq/herald"
)

// maxStepsPerRun bounds the steps one journey runs before yielding (a workflow without
// waits runs to its end in one go).
const maxStepsPerRun = 100

// runDue claims a batch of due journeys and runs each until it waits or ends.
func (e *Engine) runDue(ctx context.Context) (bool, error) {
	now := e.Now()
	js, err := e.Store.ClaimJourneys(ctx, now.Unix(), e.owner, now.Add(e.Lease).Unix(), e.Batch)
	if err != nil || len(js) == 0 {
		return false, err
	}
	for _, j := range js {
		if err := e.advance(ctx, j); err != nil {
			// The journey stays claimed until its lease runs out, then runs again: every
			// step is safe to repeat.
			e.Log.Error("journey step", "journey", j.ID, "campaign", j.CampaignID, "err", err)
		}
	}
	return len(js) == e.Batch, nil
}

// run is one journey's run: the journey, its definition and what it has learnt so far.
type run struct {
	e      *Engine
	j      *herald.Journey
	def    *herald.CampaignDef
	person *herald.Identifiers
	counts []herald.StepCount
}

// advance runs j's steps from its position until it waits or ends, then saves it.
func (e *Engine) advance(ctx context.Context, j *herald.Journey) error {
	def, err := e.definition(ctx, j.CampaignID, j.Version)
	if err != nil {
		return err
	}
	r := &run{e: e, j: j, def: def}
	ids, err := e.Store.PeopleIdentifiers(ctx, []int64{j.PersonPK})
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		r.exit("the person was deleted")
	} else {
		r.person = &ids[0]
	}
	for n := 0; j.State == herald.JourneyActive && n < maxStepsPerRun; n++ {
		step := def.StepAt(j.Position)
		if step == nil {
			j.State = herald.JourneyCompleted
			r.count("", "completed")
			break
		}
		wait, err := r.step(ctx, step)
		if err != nil {
			return err
		}
		if wait {
			break
		}
		j.Visits++
	}
	ok, err := e.Store.SaveJourney(ctx, e.owner, j, r.counts)
	if err == nil && !ok {
		e.Log.Warn("journey lease lost before its steps were saved; they will run again", "journey", j.ID)
	}
	return err
}

func (r *run) count(step, metric string) {
	r.counts = append(r.counts, herald.StepCount{StepID: step, Metric: metric})
}

func (r *run) exit(reason string) {
	r.j.State, r.j.ExitReason = herald.JourneyExited, reason
	r.count("", "exited")
}

// step runs one step: it moves the journey on, or (wait) sets when it runs again.
func (r *run) step(ctx context.Context, s *herald.Step) (wait bool, err error) {
	j, now := r.j, r.e.Now()
	next := func() { j.Position, j.Deadline = r.def.Next(j.Position), 0 }
	enter := func(b int) { j.Position, j.Deadline = r.def.Enter(j.Position, b), 0 }
	if j.Position == nil {
		return false, nil
	}
	switch s.Kind {
	case herald.StepSend:
		if r.def.Exit == "filter" && r.def.Filter != nil {
			in, err := r.e.holds(ctx, j.WorkspaceID, r.def.Filter, []int64{j.PersonPK})
			if err != nil {
				return false, err
			}
			if len(in) == 0 {
				r.exit("no longer matches the campaign's filter")
				return false, nil
			}
		}
		if err := r.send(ctx, s); err != nil {
			return false, err
		}
	case herald.StepDelay:
		if j.Deadline == 0 {
			j.Deadline = now.Add(s.Delay).Unix()
		}
		if now.Unix() < j.Deadline {
			j.NextAt = j.Deadline
			return true, nil
		}
	case herald.StepWindow:
		if open := s.Window.NextOpen(now); open.After(now) {
			j.NextAt = open.Unix()
			return true, nil
		}
	case herald.StepWaitUntil:
		if j.Deadline == 0 {
			j.Deadline = now.Add(s.Timeout).Unix()
		}
		met, err := r.holds(ctx, s.Condition)
		if err != nil {
			return false, err
		}
		switch {
		case met:
			r.count(s.ID, "completed")
			enter(0)
		case now.Unix() >= j.Deadline:
			r.count(s.ID, "timed_out")
			enter(1)
		default:
			j.NextAt = min(j.Deadline, now.Add(r.e.WaitPoll).Unix())
			return true, nil
		}
		return false, nil
	case herald.StepBranch:
		met, err := r.holds(ctx, s.Condition)
		if err != nil {
			return false, err
		}
		r.count(s.ID, "completed")
		if met {
			enter(0)
		} else {
			enter(1)
		}
		return false, nil
	case herald.StepSplit:
		r.count(s.ID, "completed")
		for i, b := range s.Branches {
			met := b.Condition == nil
			if !met {
				if met, err = r.holds(ctx, b.Condition); err != nil {
					return false, err
				}
			}
			if met {
				enter(i)
				return false, nil
			}
		}
		next()
		return false, nil
	case herald.StepRandom:
		r.count(s.ID, "completed")
		enter(pickWeighted(j.ID, s))
		return false, nil
	case herald.StepUpdate:
		if err := r.update(ctx, s.Update); err != nil {
			return false, err
		}
	case herald.StepSegment:
		op := &herald.SegmentMembership{SegmentID: s.Segment.ID, Manual: true}
		ref := []herald.PersonRef{{Kind: herald.ByCioID, Value: r.person.CioID}}
		if s.Segment.Remove {
			op.Remove = ref
		} else {
			op.Add = ref
		}
		if err := r.apply(ctx, op); err != nil {
			return false, err
		}
	case herald.StepExit:
		r.count(s.ID, "completed")
		r.exit("an exit step")
		return false, nil
	}
	r.count(s.ID, "completed")
	next()
	return false, nil
}

// send sends the step's message. Its delivery id names the journey, the step and the visit,
// so a step run again (after a crash, or a lost lease) finds the delivery it made and sends
// nothing new.
func (r *run) send(ctx context.Context, s *herald.Step) error {
	j := r.j
	var jt herald.JourneyTrigger
	if len(j.Trigger) > 0 {
		json.Unmarshal(j.Trigger, &jt)
	}
	journeyAttrs := map[string]any{}
	for k, v := range j.Attributes {
		var x any
		json.Unmarshal(v, &x)
		journeyAttrs[k] = x
	}
	req := herald.SendRequest{
		WorkspaceID: j.WorkspaceID, Person: herald.PersonRef{Kind: herald.ByCioID, Value: r.person.CioID},
		Channel: s.Send.Channel, Template: s.Send.Template, Fields: maps.Clone(s.Send.Fields), Transactional: s.Send.Transactional,
		Event: jt.Event, Data: jt.Data, TriggerObject: j.Object, CampaignID: j.CampaignID, Journey: journeyAttrs,
		Campaign:   map[string]any{"id": j.CampaignID, "name": r.def.Name},
		DeliveryID: deliveryID(j, s),
	}
	d, err := r.e.Sender.Send(ctx, req)
	if herald.ErrorCode(err) == herald.Conflict {
		// This visit's delivery exists: the step ran before, but its journey was not saved
		// (a crash, a lost lease), so neither was its count.
		r.count(s.ID, "sent")
		return nil
	}
	if d == nil && err != nil {
		if herald.ErrorCode(err) == herald.Internal {
			return err
		}
		// Nothing was recorded (the template or the person is gone): the step fails, the
		// journey goes on, as Customer.io's do.
		r.count(s.ID, "failed")
		return nil
	}
	switch {
	case d != nil && d.Status == herald.StatusFailed:
		r.count(s.ID, "failed")
	case d != nil && d.Status == herald.StatusSuppressed:
		r.count(s.ID, "suppressed")
	default:
		r.count(s.ID, "sent")
	}
	return nil
}

// deliveryID is the id of the delivery a journey's visit of a send step makes.
func deliveryID(j *herald.Journey, s *herald.Step) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", j.ID, s.ID, j.Visits)
	return "j" + strconv.FormatInt(j.ID, 36) + "-" + strconv.FormatUint(h.Sum64(), 36)
}

// holds evaluates a workflow condition for the journey now.
func (r *run) holds(ctx context.Context, c *herald.StepCond) (bool, error) {
	j, now := r.j, r.e.Now().Unix()
	if c.Journey != nil && !c.Journey.MatchAttributes(j.Attributes, now) {
		return false, nil
	}
	if c.Object != nil {
		if j.Object == nil {
			return false, nil
		}
		o, err := r.e.Store.Object(ctx, j.WorkspaceID, *j.Object)
		if herald.ErrorCode(err) == herald.NotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		attrs := maps.Clone(o.Attributes)
		if attrs == nil {
			attrs = herald.Attributes{}
		}
		attrs["object_id"] = json.RawMessage(strconv.Quote(o.ObjectID))
		if !c.Object.MatchAttributes(attrs, now) {
			return false, nil
		}
	}
	person := c.Person
	if c.Relationship != nil {
		if j.Object == nil {
			return false, nil
		}
		rel := relatedTo(j.Object, c.Relationship)
		if person == nil {
			person = rel
		} else {
			person = &herald.Cond{And: []*herald.Cond{person, rel}}
		}
	}
	if person == nil {
		return true, nil
	}
	in, err := r.e.holds(ctx, j.WorkspaceID, person, []int64{j.PersonPK})
	return len(in) > 0, err
}

// update writes an update step's attributes through the write path (journey attributes live
// on the journey).
func (r *run) update(ctx context.Context, u *herald.UpdateStep) error {
	j := r.j
	me := herald.PersonRef{Kind: herald.ByCioID, Value: r.person.CioID}
	switch u.Target {
	case "journey":
		next, _, _ := herald.Merge(j.Attributes, nil, u.Attributes, 0)
		j.Attributes = next
		return nil
	case "person":
		return r.apply(ctx, &herald.IdentifyPerson{Ref: me, Attributes: u.Attributes, UpdateOnly: true})
	}
	if j.Object == nil {
		return herald.Errorf(herald.Invalid, "update.target", "the journey has no trigger object to update")
	}
	if u.Target == "object" {
		return r.apply(ctx, &herald.IdentifyObject{Ref: *j.Object, Attributes: u.Attributes, UpdateOnly: true})
	}
	return r.apply(ctx, &herald.PersonRelationships{Ref: me, Items: []herald.PersonRelationship{{Object: *j.Object, Attributes: u.Attributes}}})
}

// apply writes one op; an op refused for its content (a deleted object) does not stop the
// journey, a fault does.
func (r *run) apply(ctx context.Context, op herald.Op) error {
	errs, err := r.e.Store.Apply(ctx, r.j.WorkspaceID, []herald.Op{op})
	if err != nil {
		return err
	}
	if errs[0] != nil {
		r.e.Log.Warn("workflow write refused", "journey", r.j.ID, "err", errs[0])
	}
	return nil
}

// pickWeighted chooses a random split's branch, the same one every time for a journey.
func pickWeighted(journey int64, s *herald.Step) int {
	total := 0
	for _, b := range s.Branches {
		total += b.Weight
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%s", journey, s.ID)
	x := int(h.Sum32() % uint32(total))
	for i, b := range s.Branches {
		if x < b.Weight {
			return i
		}
		x -= b.Weight
	}
	return len(s.Branches) - 1
}
