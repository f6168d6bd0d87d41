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

// runDue claims a batch of due journeys and runs each until it waits or ends. Their messages
// are sent, and the journeys saved, together: one write for the batch's deliveries, then one
// for the journeys. A crash between the two runs the steps again; the sends then find their
// deliveries (see deliveryID) and send nothing twice.
func (e *Engine) runDue(ctx context.Context) (bool, error) {
	now := e.Now()
	js, err := e.Store.ClaimJourneys(ctx, now.Unix(), e.owner, now.Add(e.Lease).Unix(), e.Batch)
	if err != nil || len(js) == 0 {
		return false, err
	}
	pks := make([]int64, 0, 2*len(js))
	for _, j := range js {
		pks = append(pks, j.PersonPK)
		if tp := triggerPerson(j); tp != 0 {
			pks = append(pks, tp)
		}
	}
	people, err := e.Store.PeopleByPK(ctx, pks)
	if err != nil {
		return false, err
	}
	var runs []*run
	b := &batch{e: e}
	for _, j := range js {
		var person *herald.Identifiers
		if id, ok := people[j.PersonPK]; ok {
			person = &id
		}
		r, err := e.advance(ctx, j, person, b, people[triggerPerson(j)])
		if err != nil {
			// A fault: the journey's queued work is dropped and it stays claimed until its
			// lease runs out, then runs again (every step is safe to repeat).
			b.drop(r)
			e.Log.Error("journey step", "journey", j.ID, "campaign", j.CampaignID, "err", err)
			continue
		}
		runs = append(runs, r)
	}
	if err := b.flush(ctx); err != nil {
		return false, err
	}
	saves := make([]*herald.Journey, len(runs))
	counts := make([][]herald.StepCount, len(runs))
	for i, r := range runs {
		saves[i], counts[i] = r.j, r.counts
	}
	saved, err := e.Store.SaveJourneys(ctx, e.owner, saves, counts)
	if err != nil {
		return false, err
	}
	for i, ok := range saved {
		if !ok {
			e.Log.Warn("journey lease lost before its steps were saved; they will run again", "journey", saves[i].ID)
		}
	}
	return len(js) == e.Batch, nil
}

// batch is the work a batch of runs queues, written in the order the steps made it: update
// and segment steps' ops, and send steps' messages (one write per workspace for each). At
// most one kind waits at a time: queueing a message first writes the ops before it (so it
// renders with them), queueing an op first sends the messages before it (so they render
// without it), and a step that reads data first writes the ops.
type batch struct {
	e     *Engine
	ops   []pendingOp
	sends []*pendingSend
}

type pendingOp struct {
	r  *run
	op herald.Op
}

func (b *batch) write(ctx context.Context, r *run, op herald.Op) error {
	if err := b.flushSends(ctx); err != nil {
		return err
	}
	b.ops = append(b.ops, pendingOp{r, op})
	return nil
}

func (b *batch) send(ctx context.Context, p *pendingSend) error {
	if err := b.flushOps(ctx); err != nil {
		return err
	}
	b.sends = append(b.sends, p)
	return nil
}

// drop forgets what a failed run queued.
func (b *batch) drop(r *run) {
	if r == nil {
		return
	}
	ops := b.ops[:0]
	for _, o := range b.ops {
		if o.r != r {
			ops = append(ops, o)
		}
	}
	b.ops = ops
	sends := b.sends[:0]
	for _, p := range b.sends {
		if p.r != r {
			sends = append(sends, p)
		}
	}
	b.sends = sends
}

func (b *batch) flush(ctx context.Context) error {
	if err := b.flushOps(ctx); err != nil {
		return err
	}
	return b.flushSends(ctx)
}

// flushOps writes the queued ops; an op refused for its content (a deleted object) does not
// stop the journeys, a fault does.
func (b *batch) flushOps(ctx context.Context) error {
	byWS := map[int64][]herald.Op{}
	for _, o := range b.ops {
		byWS[o.r.j.WorkspaceID] = append(byWS[o.r.j.WorkspaceID], o.op)
	}
	b.ops = nil
	for ws, ops := range byWS {
		errs, err := b.e.Store.Apply(ctx, ws, ops)
		if err != nil {
			return err
		}
		for i, e := range errs {
			if e != nil {
				b.e.Log.Warn("workflow write refused", "op", fmt.Sprintf("%T", ops[i]), "err", e)
			}
		}
	}
	return nil
}

// flushSends sends the queued messages, one write per workspace, and counts each step's
// outcome.
func (b *batch) flushSends(ctx context.Context) error {
	byWS := map[int64][]*pendingSend{}
	var order []int64
	for _, p := range b.sends {
		ws := p.r.j.WorkspaceID
		if byWS[ws] == nil {
			order = append(order, ws)
		}
		byWS[ws] = append(byWS[ws], p)
	}
	b.sends = nil
	for _, ws := range order {
		pending := byWS[ws]
		reqs := make([]herald.SendRequest, len(pending))
		for i, p := range pending {
			reqs[i] = p.req
		}
		ds, errs, err := b.e.Sender.SendMany(ctx, reqs)
		if err != nil {
			return err
		}
		for i, p := range pending {
			d, err := ds[i], errs[i]
			switch {
			case herald.ErrorCode(err) == herald.Conflict:
				// This visit's delivery exists: the step ran before, but its journey was not
				// saved (a crash, a lost lease), so neither was its count.
				p.r.count(p.step, "sent")
			case d == nil && herald.ErrorCode(err) == herald.Internal:
				return err
			case d == nil, d.Status == herald.StatusFailed:
				// Nothing could be recorded (the template or the person is gone), or the
				// message failed to render: the step fails, the journey goes on.
				p.r.count(p.step, "failed")
			case d.Status == herald.StatusSuppressed:
				p.r.count(p.step, "suppressed")
			default:
				p.r.count(p.step, "sent")
			}
		}
	}
	return nil
}

// run is one journey's run: the journey, its definition and what it has learnt so far.
type run struct {
	e      *Engine
	j      *herald.Journey
	def    *herald.CampaignDef
	person *herald.Identifiers
	counts []herald.StepCount
	batch  *batch
	// triggerPerson is the person whose relationship started the journey, when not its own.
	triggerPerson *herald.PersonRef
}

// triggerPerson returns the key of the person whose change started j, when that is another
// person than j's.
func triggerPerson(j *herald.Journey) int64 {
	var jt struct {
		PersonPK int64 `json:"person_pk"`
	}
	if len(j.Trigger) > 0 && json.Unmarshal(j.Trigger, &jt) == nil && jt.PersonPK != j.PersonPK {
		return jt.PersonPK
	}
	return 0
}

// pendingSend is a send step's message, sent with the batch's others.
type pendingSend struct {
	r    *run
	step string
	req  herald.SendRequest
}

// advance runs j's steps from its position until it waits or ends.
func (e *Engine) advance(ctx context.Context, j *herald.Journey, person *herald.Identifiers, b *batch, trigger herald.Identifiers) (*run, error) {
	def, err := e.definition(ctx, j.CampaignID, j.Version)
	if err != nil {
		return nil, err
	}
	r := &run{e: e, j: j, def: def, person: person, batch: b}
	if trigger.CioID != "" {
		r.triggerPerson = &herald.PersonRef{Kind: herald.ByCioID, Value: trigger.CioID}
	}
	if person == nil {
		r.exit("the person was deleted")
	}
	for n := 0; j.State == herald.JourneyActive && n < maxStepsPerRun; n++ {
		step := def.StepAt(j.Position)
		if step == nil {
			j.State = herald.JourneyCompleted
			r.count("", "completed")
			break
		}
		wait, err := r.step(ctx, step)
		if herald.ErrorCode(err) == herald.Internal {
			return r, err // a fault: run again later
		}
		if err != nil {
			// The step cannot succeed however often it runs: the journey ends here.
			r.count(step.ID, "failed")
			r.exit("step " + step.ID + " failed: " + err.Error())
			break
		}
		if wait {
			break
		}
		j.Visits++
	}
	return r, nil
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
		if (r.def.Exit == "filter" || r.def.Exit == "goal_or_filter") && r.def.Filter != nil {
			if err := r.batch.flushOps(ctx); err != nil {
				return false, err
			}
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

// send queues the step's message for sendAll. Its delivery id names the journey, the step
// and the visit, so a step run again (after a crash, or a lost lease) finds the delivery it
// made and sends nothing new.
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
	return r.batch.send(ctx, &pendingSend{r: r, step: s.ID, req: herald.SendRequest{
		WorkspaceID: j.WorkspaceID, Person: herald.PersonRef{Kind: herald.ByCioID, Value: r.person.CioID},
		Channel: s.Send.Channel, Template: s.Send.Template, Fields: maps.Clone(s.Send.Fields), Transactional: s.Send.Transactional,
		Event: jt.Event, Data: jt.Data, TriggerObject: j.Object, TriggerPerson: r.triggerPerson, CampaignID: j.CampaignID, Journey: journeyAttrs,
		Campaign:   map[string]any{"id": j.CampaignID, "name": r.def.Name},
		DeliveryID: deliveryID(j, s),
	}})
}

// deliveryID is the id of the delivery a journey's visit of a send step makes.
func deliveryID(j *herald.Journey, s *herald.Step) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", j.ID, s.ID, j.Visits)
	return "j" + strconv.FormatInt(j.ID, 36) + "-" + strconv.FormatUint(h.Sum64(), 36)
}

// holds evaluates a workflow condition for the journey now, after the batch's pending writes.
func (r *run) holds(ctx context.Context, c *herald.StepCond) (bool, error) {
	if err := r.batch.flushOps(ctx); err != nil {
		return false, err
	}
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
	// The relationship is updated, never made: one removed since (the trigger of a
	// relationship_removed campaign) stays removed.
	if err := r.batch.flushOps(ctx); err != nil {
		return err
	}
	related, err := r.e.holds(ctx, j.WorkspaceID, relatedTo(j.Object, nil), []int64{j.PersonPK})
	if err != nil || len(related) == 0 {
		return err
	}
	return r.apply(ctx, &herald.PersonRelationships{Ref: me, Items: []herald.PersonRelationship{{Object: *j.Object, Attributes: u.Attributes}}})
}

// apply queues one op with the batch's writes.
func (r *run) apply(ctx context.Context, op herald.Op) error {
	return r.batch.write(ctx, r, op)
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
