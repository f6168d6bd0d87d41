package store

import (
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald"
)

// mergePeople merges secondary into primary: attributes primary lacks, events, relationships
// and devices move over; the secondary person is deleted. Primary's values win.
func (w *writer) mergePeople(op *herald.MergePeople) error {
	primary, err := w.findPerson(op.Primary)
	if err != nil {
		return err
	}
	if primary == nil {
		return herald.Errorf(herald.NotFound, "primary", "no person has %s", op.Primary)
	}
	secondary, err := w.findPerson(op.Secondary)
	if err != nil {
		return err
	}
	if secondary == nil {
		return herald.Errorf(herald.NotFound, "secondary", "no person has %s", op.Secondary)
	}
	if secondary == primary {
		return herald.Errorf(herald.Invalid, "secondary", "primary and secondary are the same person")
	}
	if err := w.flushRows(); err != nil {
		return err
	}
	update := herald.Attributes{}
	for k, v := range secondary.attrs {
		if _, ok := primary.attrs[k]; !ok && k != "id" && k != "email" {
			update[k] = v
		}
	}
	next := *primary
	if next.email == "" && secondary.email != "" {
		next.email = secondary.email
		update["email"] = herald.JSONString(secondary.email)
	}
	if next.extID == "" && secondary.extID != "" {
		next.extID = secondary.extID
		update["id"] = herald.JSONString(secondary.extID)
	}
	if next.anonID == "" {
		next.anonID = secondary.anonID
	}
	attrs, times, diff := herald.Merge(primary.attrs, primary.ts, update, w.now)
	if err := herald.CheckTotal(attrs, "secondary", 0); err != nil {
		return err
	}
	next.attrs, next.ts = attrs, times
	moved, err := w.query(`SELECT o.type_id, o.object_id, o.cio_object_id FROM relationships r JOIN objects o ON o.pk = r.object_pk
		WHERE r.person_pk = ? AND NOT EXISTS (SELECT 1 FROM relationships x WHERE x.person_pk = ? AND x.object_pk = r.object_pk)`,
		secondary.pk, primary.pk)
	if err != nil {
		return err
	}
	var objects []herald.ObjectIdentity
	for moved.Next() {
		var o herald.ObjectIdentity
		if err := moved.Scan(&o.TypeID, &o.ObjectID, &o.CioObjectID); err != nil {
			moved.Close()
			return err
		}
		objects = append(objects, o)
	}
	moved.Close()
	for _, stmt := range []string{
		"UPDATE events SET person_pk = ? WHERE person_pk = ?",
		`INSERT INTO relationships (workspace_id, person_pk, object_pk, attributes, attr_ts, created_at, updated_at)
			SELECT workspace_id, ?, object_pk, attributes, attr_ts, created_at, updated_at FROM relationships WHERE person_pk = ?
			ON CONFLICT DO NOTHING`,
		`INSERT INTO devices (person_pk, token, platform, last_used, attributes, updated_at)
			SELECT ?, token, platform, last_used, attributes, updated_at FROM devices WHERE person_pk = ? ON CONFLICT DO NOTHING`,
	} {
		if _, err := w.exec(stmt, primary.pk, secondary.pk); err != nil {
			return fmt.Errorf("merge people: %w", err)
		}
	}
	if _, err := w.exec("DELETE FROM people WHERE pk = ?", secondary.pk); err != nil {
		return fmt.Errorf("merge people: %w", err)
	}
	if _, err := w.exec(`UPDATE people SET ext_id = ?, email = ?, email_norm = ?, anonymous_id = ?, attributes = ?, attr_ts = ?, updated_at = ?
		WHERE pk = ?`, nullString(next.extID), nullString(next.email), nullString(herald.NormalizeEmail(next.email)),
		nullString(next.anonID), encodeJSON(next.attrs), encodeJSON(next.ts), w.now, primary.pk); err != nil {
		return fmt.Errorf("merge people: %w", err)
	}
	if len(diff) > 0 {
		w.personChange(herald.ActAttributeChange, &next, herald.DiffData(diff))
	}
	data, _ := json.Marshal(map[string]any{"secondary": secondary.identifiers()})
	w.personChange(herald.ActProfileMerge, &next, data)
	w.personChange(herald.ActProfileDelete, secondary, nil)
	for i := range objects {
		w.recordRelated(&next, &objects[i], nil)
	}
	w.st.forget()
	return nil
}

// aliasPerson merges the person Previous names into User, or gives User the anonymous id.
func (w *writer) aliasPerson(op *herald.AliasPerson) error {
	prev := herald.PathRef(op.Previous)
	if prev.Kind == herald.ByCioID {
		prev = herald.PersonRef{Kind: herald.ByID, Value: op.Previous}
	}
	old, err := w.findPerson(prev)
	if err != nil {
		return err
	}
	if old != nil {
		user, err := w.ensurePerson(op.User)
		if err != nil {
			return err
		}
		if user == old {
			return nil // the previous id already names this person
		}
		return w.mergePeople(&herald.MergePeople{Primary: op.User, Secondary: prev})
	}
	return w.identifyPerson(&herald.IdentifyPerson{Ref: op.User, AnonymousID: op.Previous})
}
