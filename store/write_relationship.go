package store

import (
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
	return w.applyPersonRelationships(p, rels, w.now)
}

// relate creates the relationship between p and o, or merges attrs into it.
func (w *writer) relate(p *personRow, o *objectRow, attrs herald.Attributes, ts int64) error {
	var raw, rawTS []byte
	err := w.queryRow("SELECT attributes, attr_ts FROM relationships WHERE person_pk = ? AND object_pk = ?", p.pk, o.pk).Scan(&raw, &rawTS)
	if isNoRows(err) {
		next, times, diff := herald.Merge(nil, nil, attrs, ts)
		if next == nil {
			next, times = herald.Attributes{}, map[string]int64{}
		}
		if _, err := w.exec(`INSERT INTO relationships (workspace_id, person_pk, object_pk, attributes, attr_ts, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, w.ws, p.pk, o.pk, encodeJSON(next), encodeJSON(times), w.now, w.now); err != nil {
			return fmt.Errorf("insert relationship: %w", err)
		}
		data := herald.DiffData(diff)
		w.record(herald.Change{Type: herald.ActAddRelationship, PersonPK: p.pk, Customer: p.identifiers(), Object: o.identity(), Data: data})
		w.record(herald.Change{Type: herald.ObjectActivity(o.typeID, "add_relationship"), PersonPK: p.pk, Customer: p.identifiers(), Object: o.identity(), Data: data})
		return nil
	}
	if err != nil {
		return err
	}
	var cur herald.Attributes
	var curTS map[string]int64
	if err := decodeAttrs(raw, rawTS, &cur, &curTS); err != nil {
		return err
	}
	next, times, diff := herald.Merge(cur, curTS, attrs, ts)
	if len(diff) == 0 {
		return nil
	}
	if err := herald.CheckTotal(next, "relationship_attributes", herald.MaxEntityBytes); err != nil {
		return err
	}
	if _, err := w.exec("UPDATE relationships SET attributes = ?, attr_ts = ?, updated_at = ? WHERE person_pk = ? AND object_pk = ?",
		encodeJSON(next), encodeJSON(times), w.now, p.pk, o.pk); err != nil {
		return fmt.Errorf("update relationship: %w", err)
	}
	w.record(herald.Change{Type: herald.RelationshipActivity(o.typeID, "attribute_change"), PersonPK: p.pk,
		Customer: p.identifiers(), Object: o.identity(), Data: herald.DiffData(diff)})
	return nil
}

// unrelate removes the relationship between p and o, if there is one.
func (w *writer) unrelate(p *personRow, o *objectRow) error {
	res, err := w.exec("DELETE FROM relationships WHERE person_pk = ? AND object_pk = ?", p.pk, o.pk)
	if err != nil {
		return fmt.Errorf("delete relationship: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	w.record(herald.Change{Type: herald.ActDeleteRelationship, PersonPK: p.pk, Customer: p.identifiers(), Object: o.identity()})
	w.record(herald.Change{Type: herald.ObjectActivity(o.typeID, "delete_relationship"), PersonPK: p.pk, Customer: p.identifiers(), Object: o.identity()})
	return nil
}
