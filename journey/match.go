package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/segment"
)

// running is a running campaign with its current definition.
type running struct {
	c   *herald.Campaign
	def *herald.CampaignDef
}

// match reads a batch of the feed and starts the journeys its changes trigger. Starting is
// idempotent (journeys' dedupe keys), so a batch read again after a crash starts nothing
// twice.
func (e *Engine) match(ctx context.Context) (bool, error) {
	now := e.Now()
	if ok, err := e.feed.Hold(ctx, e.Store, now, e.Lease); err != nil || !ok {
		return false, err
	}
	changes, err := e.Store.ChangesAfter(ctx, e.feed.Seq, 1000)
	if err != nil || len(changes) == 0 {
		return false, err
	}
	campaigns, err := e.running(ctx)
	if err != nil {
		return false, err
	}
	var entering []*herald.Journey // started together at the batch's end
	for _, ch := range changes {
		for _, r := range campaigns {
			if r.c.WorkspaceID != ch.WorkspaceID {
				continue
			}
			if err := e.goal(ctx, r, ch); err != nil {
				return false, fmt.Errorf("campaign %d goal, change %d: %w", r.c.ID, ch.Seq, err)
			}
			if ch.Quiet {
				continue // written with triggers off: it starts no journey
			}
			if err := e.trigger(ctx, r, ch, &entering); err != nil {
				return false, fmt.Errorf("campaign %d, change %d: %w", r.c.ID, ch.Seq, err)
			}
		}
	}
	if _, err := e.start(ctx, entering); err != nil {
		return false, err
	}
	e.feed.Seq = changes[len(changes)-1].Seq
	if err := e.Store.SaveCursor(ctx, cursorName, e.owner, e.feed.Seq); err != nil {
		return false, err
	}
	e.mu.Lock()
	e.processed = e.feed.Seq
	e.idle.Broadcast()
	e.mu.Unlock()
	return len(changes) == 1000, nil
}

func (e *Engine) running(ctx context.Context) ([]running, error) {
	all, err := e.Store.Campaigns(ctx, 0)
	if err != nil {
		return nil, err
	}
	var out []running
	for _, c := range all {
		if c.State != herald.CampaignRunning {
			continue
		}
		def, err := e.definition(ctx, c.ID, c.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, running{c, def})
	}
	return out, nil
}

// trigger starts r's journeys for change ch, if ch is r's trigger.
func (e *Engine) trigger(ctx context.Context, r running, ch herald.Change, pending *[]*herald.Journey) error {
	t := r.def.Trigger
	now := e.Now().Unix()
	var jt herald.JourneyTrigger
	jt.Seq = ch.Seq
	var object *herald.ObjectRef
	var pks []int64
	switch t.Type {
	case herald.TriggerEvent:
		if ch.Type != string(herald.EventCustom) || ch.Name != t.Event || ch.PersonPK == 0 {
			return nil
		}
		data, _ := herald.ParseAttributes(ch.Data, "data")
		if !t.Data.MatchAttributes(data, now) {
			return nil
		}
		var values map[string]any
		json.Unmarshal(ch.Data, &values)
		jt.Event = &herald.EventContext{Name: ch.Name, Timestamp: ch.Timestamp, Data: values}
		pks = []int64{ch.PersonPK}
	case herald.TriggerSegmentEntered, herald.TriggerSegmentExited:
		want := herald.ActSegmentEntered
		if t.Type == herald.TriggerSegmentExited {
			want = herald.ActSegmentExited
		}
		if ch.Type != want || ch.Name != strconv.FormatInt(t.SegmentID, 10) || ch.PersonPK == 0 {
			return nil
		}
		pks = []int64{ch.PersonPK}
	case herald.TriggerAttributeChanged:
		if (ch.Type != herald.ActAttributeChange && ch.Type != herald.ActProfileCreate) || ch.PersonPK == 0 {
			return nil
		}
		var diff map[string]herald.Diff
		json.Unmarshal(ch.Data, &diff)
		d, ok := diff[t.Attribute]
		if !ok || (len(t.To) > 0 && !(&herald.AttrCond{Operator: "eq", Value: t.To}).Compare(d.To, d.To != nil, now)) {
			return nil
		}
		pks = []int64{ch.PersonPK}
	case herald.TriggerAPI:
		return nil
	default: // object and relationship triggers
		if ch.Object == nil || ch.Object.TypeID != t.TypeID || !objectTriggerType(t.Type, ch) {
			return nil
		}
		if len(t.Changed) > 0 {
			var diff map[string]herald.Diff
			json.Unmarshal(ch.Data, &diff)
			if !anyKey(diff, t.Changed) {
				return nil
			}
		}
		object = &herald.ObjectRef{TypeID: ch.Object.TypeID, ObjectID: ch.Object.ObjectID}
		jt.PersonPK = ch.PersonPK
		if t.Object != nil {
			attrs, err := e.objectAt(ctx, ch, *object)
			if err != nil || attrs == nil {
				return err
			}
			if !t.Object.MatchAttributes(attrs, now) {
				return nil
			}
		}
		if t.Audience.Who == "trigger_person" {
			if ch.PersonPK == 0 {
				return nil
			}
			pks = []int64{ch.PersonPK}
		} else {
			var err error
			if pks, err = e.Store.RelatedPKs(ctx, ch.WorkspaceID, object.TypeID, object.ObjectID); err != nil {
				return err
			}
		}
		if t.Relationship != nil && t.Type != herald.TriggerRelationshipRemoved {
			// The triggering person's relationship must match.
			ok, err := e.holds(ctx, ch.WorkspaceID, relatedTo(object, t.Relationship), []int64{ch.PersonPK})
			if err != nil {
				return err
			}
			if len(ok) == 0 {
				return nil
			}
		}
		var err error
		if t.Audience.Relationship != nil {
			if pks, err = e.holds(ctx, ch.WorkspaceID, relatedTo(object, t.Audience.Relationship), pks); err != nil {
				return err
			}
		}
		if pks, err = e.holds(ctx, ch.WorkspaceID, t.Audience.People, pks); err != nil {
			return err
		}
	}
	_, err := e.enter(ctx, r, pks, object, jt, fmt.Sprintf("c%d", ch.Seq), pending)
	return err
}

// enter starts journeys in r for the people pks (who pass r's filter), in batches.
// With pending, the journeys are added to it for the caller to start; else they start now.
func (e *Engine) enter(ctx context.Context, r running, pks []int64, object *herald.ObjectRef, jt herald.JourneyTrigger, occasion string, pending *[]*herald.Journey) (int, error) {
	pks, err := e.holds(ctx, r.c.WorkspaceID, r.def.Filter, pks)
	if err != nil || len(pks) == 0 {
		return 0, err
	}
	trigger, _ := json.Marshal(jt)
	now := e.Now().Unix()
	js := make([]*herald.Journey, 0, len(pks))
	for _, pk := range pks {
		js = append(js, &herald.Journey{WorkspaceID: r.c.WorkspaceID, CampaignID: r.c.ID, Version: r.c.Version, PersonPK: pk,
			Object: object, Trigger: trigger, DedupeKey: dedupeKey(r.def.Frequency, pk, object, occasion), Position: []int{0}, NextAt: now})
	}
	if pending != nil {
		*pending = append(*pending, js...)
		return len(js), nil
	}
	return e.start(ctx, js)
}

// start inserts journeys, Batch per transaction, and returns how many started (those whose
// dedupe key was new).
func (e *Engine) start(ctx context.Context, js []*herald.Journey) (int, error) {
	started := 0
	for from := 0; from < len(js); from += e.Batch {
		got, err := e.Store.StartJourneys(ctx, js[from:min(from+e.Batch, len(js))])
		if err != nil {
			return started, err
		}
		started += len(got)
	}
	if started > 0 {
		e.Kick()
	}
	return started, nil
}

// dedupeKey keeps a campaign's frequency: a person enters once, once per object, or once per
// occasion (the change, or the API trigger, that started them).
func dedupeKey(frequency string, pk int64, object *herald.ObjectRef, occasion string) string {
	switch {
	case frequency == "once_per_object" && object != nil:
		return fmt.Sprintf("p%d:o%d:%s", pk, object.TypeID, object.ObjectID)
	case frequency == "every_time":
		return fmt.Sprintf("p%d:%s", pk, occasion)
	}
	return fmt.Sprintf("p%d", pk)
}

// holds returns which of pks meet person conditions c now (all of them when c is nil).
func (e *Engine) holds(ctx context.Context, ws int64, c *herald.Cond, pks []int64) ([]int64, error) {
	if c == nil || len(pks) == 0 {
		return pks, nil
	}
	var out []int64
	for start := 0; start < len(pks); start += 500 {
		q, err := segment.Compile(e.Store.Engine(), ws, c, e.Now().Unix(), pks[start:min(start+500, len(pks))])
		if err != nil {
			return nil, err
		}
		got, err := e.Store.QueryPKs(ctx, q.SQL, q.Args...)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// relatedTo is the person condition "related to this object by a relationship where rel
// holds".
func relatedTo(o *herald.ObjectRef, rel *herald.Cond) *herald.Cond {
	id, _ := json.Marshal(o.ObjectID)
	return &herald.Cond{Related: &herald.RelatedCond{TypeID: o.TypeID, Count: herald.AtLeastOnce, Relationship: rel,
		Object: &herald.Cond{Attr: &herald.AttrCond{Field: "object_id", Operator: "eq", Value: id}}}}
}

func objectTriggerType(trigger string, ch herald.Change) bool {
	switch trigger {
	case herald.TriggerObjectCreated:
		return ch.Type == herald.ObjectActivity(ch.Object.TypeID, "create")
	case herald.TriggerObjectUpdated:
		return ch.Type == herald.ObjectActivity(ch.Object.TypeID, "attribute_change")
	case herald.TriggerRelationshipAdded:
		return ch.Type == herald.ActAddRelationship
	case herald.TriggerRelationshipChanged:
		return strings.HasPrefix(ch.Type, "_r:") && strings.HasSuffix(ch.Type, ":attribute_change")
	case herald.TriggerRelationshipRemoved:
		return ch.Type == herald.ActDeleteRelationship
	}
	return false
}

func anyKey(diff map[string]herald.Diff, keys []string) bool {
	for _, k := range keys {
		if _, ok := diff[k]; ok {
			return true
		}
	}
	return false
}

// objectAt returns the object's attributes (with object_id) as change ch left them: a
// creation's are in its diff; after an object change, the object as it is now with the
// attributes ch changed as ch set them; after a relationship change, the object as it is.
// nil when the object is gone.
func (e *Engine) objectAt(ctx context.Context, ch herald.Change, ref herald.ObjectRef) (herald.Attributes, error) {
	var diff map[string]herald.Diff
	json.Unmarshal(ch.Data, &diff)
	attrs := herald.Attributes{"object_id": json.RawMessage(strconv.Quote(ref.ObjectID))}
	if !strings.HasPrefix(ch.Type, "_o:") {
		diff = nil // a relationship's change: its diff is the relationship's, not the object's
	}
	if ch.Type != herald.ObjectActivity(ref.TypeID, "create") {
		o, err := e.Store.Object(ctx, ch.WorkspaceID, ref)
		if herald.ErrorCode(err) == herald.NotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for k, v := range o.Attributes {
			attrs[k] = v
		}
	}
	for k, d := range diff {
		if d.To == nil {
			delete(attrs, k)
		} else {
			attrs[k] = d.To
		}
	}
	return attrs, nil
}
