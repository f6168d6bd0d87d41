package store

import (
	"fmt"

	"github.com/heraldhq/herald"
)

// ensureObject finds the object ref addresses, creating it (with no attributes) when it is
// addressed by type and object_id.
func (w *writer) ensureObject(ref herald.ObjectRef) (*objectRow, error) {
	o, err := w.findObject(ref)
	if o != nil || err != nil {
		return o, err
	}
	if ref.CioObjectID != "" {
		return nil, herald.Errorf(herald.NotFound, "identifiers.cio_object_id", "no object has cio_object_id %q", ref.CioObjectID)
	}
	return w.insertObject(ref, nil, nil, nil, w.now)
}

func (w *writer) insertObject(ref herald.ObjectRef, attrs herald.Attributes, times map[string]int64, diff map[string]herald.Diff, createdAt int64) (*objectRow, error) {
	if attrs == nil {
		attrs, times = herald.Attributes{}, map[string]int64{}
	}
	o := &objectRow{typeID: ref.TypeID, objectID: ref.ObjectID, cioID: w.s.newEntityID("ob"), attrs: attrs, ts: times,
		createdAt: createdAt, updatedAt: w.now, isNew: true}
	w.mutated = true
	w.st.newObjects = append(w.st.newObjects, o)
	w.st.addObject(o)
	w.record(nil, herald.Change{Type: herald.ObjectActivity(o.typeID, "create"), Object: o.identity(), Data: herald.DiffData(diff)})
	return o, nil
}

// identifyObject creates or updates an object and relates people to it.
func (w *writer) identifyObject(op *herald.IdentifyObject) error {
	mark := len(w.changes)
	op.Result = herald.Result{}
	o, err := w.findObject(op.Ref)
	if err != nil {
		return err
	}
	if o == nil && op.UpdateOnly {
		op.Result.Set(herald.OutcomeSkipped, "the object does not exist and only updates were asked for")
		return nil
	}
	if o != nil && op.CreateOnly {
		op.Result.Set(herald.OutcomeSkipped, "the object exists and only new objects were asked for")
		return nil
	}
	created := o == nil
	if o == nil && op.Ref.CioObjectID != "" {
		return herald.Errorf(herald.NotFound, "identifiers.cio_object_id", "no object has cio_object_id %q; cio_object_id can only update an existing object", op.Ref.CioObjectID)
	}
	update, createdAt := op.Attributes, w.now
	if v, ok := update["created_at"]; ok {
		if !herald.Removes(v) {
			createdAt, _ = herald.Int64Value(v, "attributes.created_at")
		}
		update = withoutAttr(update, "created_at")
	}
	ts := op.Timestamp
	if ts == 0 {
		ts = w.now
	}
	var cur herald.Attributes
	var curTS map[string]int64
	if o != nil {
		if err := o.decode(); err != nil {
			return fmt.Errorf("object %d attributes: %w", o.pk, err)
		}
		cur, curTS = o.attrs, o.ts
	}
	attrs, times, diff := herald.Merge(cur, curTS, update, ts)
	if err := herald.CheckTotal(attrs, "attributes", herald.MaxEntityBytes); err != nil {
		return err
	}
	people, err := w.planObjectPeople(op.People, op.Anonymous)
	if err != nil {
		return err
	}
	if o == nil {
		if o, err = w.insertObject(op.Ref, attrs, times, diff, createdAt); err != nil {
			return err
		}
	} else if len(diff) > 0 {
		w.mutated = true
		o.attrs, o.ts, o.updatedAt = attrs, times, w.now
		w.st.markObject(o)
		w.record(nil, herald.Change{Type: herald.ObjectActivity(o.typeID, "attribute_change"), Object: o.identity(), Data: herald.DiffData(diff)})
	}
	if err := w.relatePeople(o, people, op.Anonymous, ts); err != nil {
		return err
	}
	op.Result.Set(w.outcome(created, mark), "")
	return nil
}

// plannedPerson is a person to relate to an object, resolved before anything is written.
type plannedPerson struct {
	ref    herald.PersonRef
	person *personRow // nil: create from ref (or, for anonymous ids, none needed)
	attrs  herald.Attributes
}

func (w *writer) planObjectPeople(items []herald.ObjectRelationship, anonymous bool) ([]plannedPerson, error) {
	out := make([]plannedPerson, 0, len(items))
	for i, it := range items {
		pp := plannedPerson{ref: it.Person, attrs: it.Attributes}
		if !anonymous {
			p, err := w.findPerson(it.Person)
			if err != nil {
				return nil, err
			}
			if p == nil && it.Person.Kind == herald.ByCioID {
				return nil, herald.Errorf(herald.NotFound, fmt.Sprintf("cio_relationships[%d].identifiers.cio_id", i), "no person has cio_id %q", it.Person.Value)
			}
			pp.person = p
		}
		out = append(out, pp)
	}
	return out, nil
}

func (w *writer) relatePeople(o *objectRow, people []plannedPerson, anonymous bool, ts int64) error {
	for _, pp := range people {
		if anonymous {
			if err := w.relateAnonymous(o, pp.ref.Value, pp.attrs); err != nil {
				return err
			}
			continue
		}
		p := pp.person
		if p == nil {
			var err error
			if p, err = w.ensurePerson(pp.ref); err != nil {
				return err
			}
			if p == nil {
				continue // suppressed
			}
		}
		if err := w.relate(p, o, pp.attrs, ts); err != nil {
			return err
		}
	}
	return nil
}

// objectRelationships adds or removes relationships of one object.
func (w *writer) objectRelationships(op *herald.ObjectRelationships) error {
	if op.Delete {
		o, err := w.findObject(op.Ref)
		if err != nil || o == nil {
			return err
		}
		for _, it := range op.People {
			p, err := w.findPerson(it.Person)
			if err != nil {
				return err
			}
			if p != nil {
				if err := w.unrelate(p, o); err != nil {
					return err
				}
			}
		}
		return nil
	}
	o, err := w.findObject(op.Ref)
	if err != nil {
		return err
	}
	people, err := w.planObjectPeople(op.People, false)
	if err != nil {
		return err
	}
	if o == nil {
		if o, err = w.ensureObject(op.Ref); err != nil {
			return err
		}
	}
	return w.relatePeople(o, people, false, w.now)
}

// deleteObject deletes an object; its relationships go with it, each recorded as removed so
// that the engines see every person it affected.
func (w *writer) deleteObject(op *herald.DeleteObject) error {
	o, err := w.findObject(op.Ref)
	if err != nil || o == nil {
		return err
	}
	if err := w.flushRows(); err != nil {
		return err
	}
	rows, err := w.query(`SELECT p.pk, p.cio_id, p.ext_id, p.email FROM relationships r
		JOIN people p ON p.pk = r.person_pk WHERE r.object_pk = ?`, o.pk)
	if err != nil {
		return err
	}
	var people []personRow
	for rows.Next() {
		var p personRow
		var ext, email nullableString
		if err := rows.Scan(&p.pk, &p.cioID, &ext, &email); err != nil {
			rows.Close()
			return err
		}
		p.extID, p.email = ext.String, email.String
		people = append(people, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := w.exec("DELETE FROM objects WHERE pk = ?", o.pk); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	for i := range people {
		w.recordUnrelated(&people[i], o.identity())
	}
	if err := o.decode(); err != nil {
		return fmt.Errorf("object %d attributes: %w", o.pk, err)
	}
	w.record(nil, herald.Change{Type: herald.ObjectActivity(o.typeID, "delete"), Object: o.identity(), Data: herald.DiffData(removedDiff(o.attrs))})
	w.st.forget()
	return nil
}

// relateAnonymous relates an object to an anonymous visitor, or to the person who already
// carries that anonymous id.
func (w *writer) relateAnonymous(o *objectRow, anon string, attrs herald.Attributes) error {
	p, err := w.findPerson(herald.PersonRef{Kind: herald.ByAnonymousID, Value: anon})
	if err != nil {
		return err
	}
	if p != nil {
		return w.relate(p, o, attrs, w.now)
	}
	if err := w.flushRows(); err != nil { // the object may be new
		return err
	}
	next, _, _ := herald.Merge(nil, nil, attrs, w.now)
	if next == nil {
		next = herald.Attributes{}
	}
	_, err = w.exec(`INSERT INTO anonymous_relationships (workspace_id, anonymous_id, object_pk, attributes, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace_id, anonymous_id, object_pk) DO UPDATE SET attributes = excluded.attributes`,
		w.ws, anon, o.pk, encodeJSON(next), w.now)
	return err
}

func removedDiff(a herald.Attributes) map[string]herald.Diff {
	d := make(map[string]herald.Diff, len(a))
	for k, v := range a {
		d[k] = herald.Diff{From: v}
	}
	return d
}

func withoutAttr(a herald.Attributes, name string) herald.Attributes {
	b := make(herald.Attributes, len(a))
	for k, v := range a {
		if k != name {
			b[k] = v
		}
	}
	return b
}
