package store

import (
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald"
)

// plannedRel is a relationship whose object has been resolved (or is to be created) before
// anything is written.
type plannedRel struct {
	ref    herald.ObjectRef
	object *objectRow // nil: create it from ref
	attrs  herald.Attributes
}

func (w *writer) planPersonRelationships(items []herald.PersonRelationship) ([]plannedRel, error) {
	out := make([]plannedRel, 0, len(items))
	for i, it := range items {
		o, err := w.findObject(it.Object)
		if err != nil {
			return nil, herald.WithField(err, fmt.Sprintf("cio_relationships[%d]", i))
		}
		if o == nil && it.Object.CioObjectID != "" {
			return nil, herald.Errorf(herald.NotFound, fmt.Sprintf("cio_relationships[%d].identifiers.cio_object_id", i),
				"no object has cio_object_id %q", it.Object.CioObjectID)
		}
		out = append(out, plannedRel{ref: it.Object, object: o, attrs: it.Attributes})
	}
	return out, nil
}

func (w *writer) applyPersonRelationships(p *personRow, rels []plannedRel, ts int64) error {
	for _, r := range rels {
		o := r.object
		if o == nil {
			var err error
			if o, err = w.ensureObject(r.ref); err != nil {
				return err
			}
		}
		if err := w.relate(p, o, r.attrs, ts); err != nil {
			return err
		}
	}
	return nil
}

// personRelationships adds or removes relationships of one person.
func (w *writer) personRelationships(op *herald.PersonRelationships) error {
	if op.Delete {
		p, err := w.findPerson(op.Ref)
		if err != nil || p == nil {
			return err
		}
		for i, it := range op.Items {
			o, err := w.findObject(it.Object)
			if herald.ErrorCode(err) == herald.NotFound {
				continue // nothing to remove
			}
			if err != nil {
				return herald.WithField(err, fmt.Sprintf("cio_relationships[%d]", i))
			}
			if o != nil {
				if err := w.unrelate(p, o); err != nil {
					return err
				}
			}
		}
		return nil
	}
	rels, err := w.planPersonRelationships(op.Items)
	if err != nil {
		return err
	}
	p, err := w.ensurePerson(op.Ref)
	if err != nil || p == nil {
		return err
	}
	mark := len(w.changes)
	if err := w.applyPersonRelationships(p, rels, w.now); err != nil {
		return err
	}
	op.Result.Set(herald.OutcomeUnchanged, "")
	for _, c := range w.changes[mark:] {
		switch {
		case c.c.Type == herald.ActAddRelationship:
			op.Result.Set(herald.OutcomeCreated, "")
		case op.Result.Outcome == herald.OutcomeUnchanged:
			op.Result.Set(herald.OutcomeUpdated, "")
		}
	}
	return nil
}

// relate creates the relationship between p and o, or merges attrs into it.
func (w *writer) relate(p *personRow, o *objectRow, attrs herald.Attributes, ts int64) error {
	r, err := w.findRel(p, o)
	if err != nil {
		return err
	}
	if r == nil {
		next, times, diff := herald.Merge(nil, nil, attrs, ts)
		if next == nil {
			next, times = herald.Attributes{}, map[string]int64{}
		}
		r = &relRow{p: p, o: o, attrs: next, ts: times, isNew: true, since: w.now}
		w.mutated = true
		w.st.rels[relKey{p, o}] = r
		w.st.markRel(r)
		w.recordRelated(p, o.identity(), herald.DiffData(diff))
		return nil
	}
	next, times, diff := herald.Merge(r.attrs, r.ts, attrs, ts)
	if len(diff) == 0 {
		return nil
	}
	if err := herald.CheckTotal(next, "relationship_attributes", herald.MaxEntityBytes); err != nil {
		return err
	}
	w.mutated = true
	r.attrs, r.ts = next, times
	w.st.markRel(r)
	w.record(p, herald.Change{Type: herald.RelationshipActivity(o.typeID, "attribute_change"), Object: o.identity(), Data: herald.DiffData(diff)})
	return nil
}

// unrelate removes the relationship between p and o, if there is one.
func (w *writer) unrelate(p *personRow, o *objectRow) error {
	if err := w.flushRows(); err != nil {
		return err
	}
	if p.pk == 0 || o.pk == 0 {
		return nil
	}
	res, err := w.exec("DELETE FROM relationships WHERE person_pk = ? AND object_pk = ?", p.pk, o.pk)
	if err != nil {
		return fmt.Errorf("delete relationship: %w", err)
	}
	w.st.rels[relKey{p, o}] = nil
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	w.recordUnrelated(p, o.identity())
	return nil
}

// recordRelated records a new relationship: one change that names both the person and the
// object, shown as add_relationship on the person and _o:<type>:add_relationship on the object
// (see herald.ObjectScoped).
func (w *writer) recordRelated(p *personRow, o *herald.ObjectIdentity, data json.RawMessage) {
	w.record(p, herald.Change{Type: herald.ActAddRelationship, Object: o, Data: data})
}

// recordUnrelated records a removed relationship, like recordRelated.
func (w *writer) recordUnrelated(p *personRow, o *herald.ObjectIdentity) {
	w.record(p, herald.Change{Type: herald.ActDeleteRelationship, Object: o})
}
