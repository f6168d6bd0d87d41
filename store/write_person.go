package store

import (
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald"
)

// identifyPerson applies Customer.io's upsert rules: find the person the request addresses,
// else one of the body's identifiers; refuse (with a failed_attribute_change activity, and
// success on the wire) when identifiers point at different people.
func (w *writer) identifyPerson(op *herald.IdentifyPerson) error {
	mark := len(w.changes)
	op.Result = herald.Result{}
	if blocked, err := w.suppressed(op.Ref, op.ID, op.Email); err != nil || blocked {
		op.Result.Set(herald.OutcomeSkipped, "the identifier is suppressed")
		return err
	}
	p, err := w.findPerson(op.Ref)
	if err != nil {
		return err
	}
	if p == nil && op.Ref.Kind == herald.ByCioID {
		op.Result.Set(herald.OutcomeSkipped, "no person has this cio_id")
		return nil // an unknown cio_id is dropped, as Customer.io does
	}
	wantID, wantEmail := op.ID, op.Email
	switch op.Ref.Kind {
	case herald.ByID:
		if wantID != "" && wantID != op.Ref.Value {
			return w.failIdentify(p, op, "the body id differs from the id in the path; change an id by addressing the person as cio_<cio_id>")
		}
		wantID = op.Ref.Value
	case herald.ByEmail:
		if wantEmail != "" && herald.NormalizeEmail(wantEmail) != herald.NormalizeEmail(op.Ref.Value) {
			return w.failIdentify(p, op, "the body email differs from the email in the path; change an email by addressing the person by id or cio_<cio_id>")
		}
		wantEmail = op.Ref.Value
	}
	var byID, byEmail *personRow
	if wantID != "" && (p == nil || p.extID != wantID) {
		if byID, err = w.findPerson(herald.PersonRef{Kind: herald.ByID, Value: wantID}); err != nil {
			return err
		}
	}
	if wantEmail != "" && (p == nil || herald.NormalizeEmail(p.email) != herald.NormalizeEmail(wantEmail)) {
		if byEmail, err = w.findPerson(herald.PersonRef{Kind: herald.ByEmail, Value: wantEmail}); err != nil {
			return err
		}
	}
	target := p
	switch {
	case p != nil && byID != nil && byID != p:
		return w.failIdentify(p, op, fmt.Sprintf("id %q already belongs to another person", wantID))
	case p != nil && byEmail != nil && byEmail != p:
		return w.failIdentify(p, op, fmt.Sprintf("email %q already belongs to another person", wantEmail))
	case p == nil && byID != nil && byEmail != nil && byID != byEmail:
		return w.failIdentify(nil, op, "the id and the email belong to different people")
	case p == nil && byID != nil:
		target = byID
	case p == nil:
		target = byEmail
	}
	if target != nil && wantID != "" && target.extID != "" && target.extID != wantID && op.Ref.Kind != herald.ByCioID {
		return w.failIdentify(target, op, "a person's id can only be changed by addressing them as cio_<cio_id>")
	}
	if target == nil && op.UpdateOnly {
		op.Result.Set(herald.OutcomeSkipped, "the person does not exist and only updates were asked for")
		return nil // `_update: true` never creates
	}
	if target != nil && op.CreateOnly {
		op.Result.Set(herald.OutcomeSkipped, "the person exists and only new people were asked for")
		return nil
	}
	created := target == nil
	var anonOwner *personRow
	if op.AnonymousID != "" && (target == nil || target.anonID != op.AnonymousID) {
		if anonOwner, err = w.findPerson(herald.PersonRef{Kind: herald.ByAnonymousID, Value: op.AnonymousID}); err != nil {
			return err
		}
		if anonOwner != nil {
			return w.failIdentify(target, op, fmt.Sprintf("anonymous_id %q already belongs to another person", op.AnonymousID))
		}
	}
	rels, err := w.planPersonRelationships(op.Relationships)
	if err != nil {
		return err
	}

	update := op.Attributes
	if wantID != "" || wantEmail != "" {
		update = make(herald.Attributes, len(op.Attributes)+2)
		for k, v := range op.Attributes {
			update[k] = v
		}
		if wantID != "" {
			update["id"] = herald.JSONString(wantID)
		}
		if wantEmail != "" {
			update["email"] = herald.JSONString(wantEmail)
		}
	}
	ts := op.Timestamp
	if ts == 0 {
		ts = w.now
	}
	if target == nil {
		attrs, times, diff := herald.Merge(nil, nil, update, ts)
		if err := herald.CheckTotal(attrs, "attributes", 0); err != nil {
			return err
		}
		target = w.insertPerson(wantID, wantEmail, op.AnonymousID, attrs, times, diff)
	} else {
		attrs, times, diff := herald.Merge(target.attrs, target.ts, update, ts)
		if err := herald.CheckTotal(attrs, "attributes", 0); err != nil {
			return err
		}
		ext, email, anon := target.extID, target.email, target.anonID
		if wantID != "" {
			ext = wantID
		}
		if wantEmail != "" {
			email = wantEmail
		}
		if op.AnonymousID != "" {
			anon = op.AnonymousID
		}
		if err := w.updatePerson(target, ext, email, anon, attrs, times, diff); err != nil {
			return err
		}
	}
	if op.AnonymousID != "" {
		if err := w.adoptAnonymous(target); err != nil {
			return err
		}
	}
	if err := w.applyPersonRelationships(target, rels, ts); err != nil {
		return err
	}
	op.Result.Set(w.outcome(created, mark), "")
	return nil
}

// outcome classifies an applied upsert by whether it created its entity and whether it
// recorded any change after mark.
func (w *writer) outcome(created bool, mark int) herald.Outcome {
	switch {
	case created:
		return herald.OutcomeCreated
	case len(w.changes) > mark:
		return herald.OutcomeUpdated
	default:
		return herald.OutcomeUnchanged
	}
}

// failIdentify logs an Attribute Update Failure and reports success, as Customer.io does.
func (w *writer) failIdentify(p *personRow, op *herald.IdentifyPerson, reason string) error {
	op.Result.Set(herald.OutcomeRefused, reason)
	data, _ := json.Marshal(map[string]any{"reason": reason, "attributes": op.Attributes, "identifiers": map[string]string{
		string(op.Ref.Kind): op.Ref.Value, "body_id": op.ID, "body_email": op.Email}})
	c := herald.Change{Type: herald.ActFailedAttrChange, Data: data}
	if p == nil {
		c.Customer = &herald.Identifiers{ID: op.ID, Email: op.Email}
	}
	w.record(p, c)
	return nil
}

// insertPerson adds a new person to the transaction's state; flushRows inserts it.
func (w *writer) insertPerson(id, email, anon string, attrs herald.Attributes, times map[string]int64, diff map[string]herald.Diff) *personRow {
	if attrs == nil {
		attrs, times = herald.Attributes{}, map[string]int64{}
	}
	p := &personRow{cioID: w.s.newEntityID(""), extID: id, email: email, anonID: anon, attrs: attrs, ts: times,
		createdAt: w.now, updatedAt: w.now, isNew: true}
	w.mutated = true
	w.st.newPeople = append(w.st.newPeople, p)
	w.st.addPerson(p)
	w.personChange(herald.ActProfileCreate, p, herald.DiffData(diff))
	return p
}

// updatePerson changes p in place and records the attribute diff. A stored person whose
// identifiers change is written at once, so that rows are written in the order identifiers
// pass from one person to another and the unique indexes never see two holders.
func (w *writer) updatePerson(p *personRow, ext, email, anon string, attrs herald.Attributes, times map[string]int64, diff map[string]herald.Diff) error {
	if len(diff) == 0 && p.extID == ext && p.email == email && p.anonID == anon {
		return nil
	}
	w.mutated = true
	rekeyed := p.extID != ext || herald.NormalizeEmail(p.email) != herald.NormalizeEmail(email) || p.anonID != anon
	old := p.keys()
	p.extID, p.email, p.anonID = ext, email, anon
	p.attrs, p.ts, p.updatedAt = attrs, times, w.now
	w.st.rekeyPerson(p, old)
	w.st.markPerson(p)
	if len(diff) > 0 {
		w.personChange(herald.ActAttributeChange, p, herald.DiffData(diff))
	}
	if rekeyed && !p.isNew {
		return w.flushRows()
	}
	return nil
}

// ensurePerson finds the person ref addresses, creating them when ref is an id or email.
// It returns nil (and no error) for an unknown cio_id, which Customer.io drops.
func (w *writer) ensurePerson(ref herald.PersonRef) (*personRow, error) {
	p, err := w.findPerson(ref)
	if p != nil || err != nil || ref.Kind == herald.ByCioID {
		return p, err
	}
	if blocked, err := w.suppressed(ref, "", ""); err != nil || blocked {
		return nil, err
	}
	var id, email string
	update := herald.Attributes{}
	switch ref.Kind {
	case herald.ByID:
		id = ref.Value
		update["id"] = herald.JSONString(id)
	case herald.ByEmail:
		email = ref.Value
		update["email"] = herald.JSONString(email)
	default:
		return nil, herald.Errorf(herald.Invalid, "identifiers", "cannot create a person from %s", ref.Kind)
	}
	attrs, times, diff := herald.Merge(nil, nil, update, w.now)
	return w.insertPerson(id, email, "", attrs, times, diff), nil
}

// deletePerson removes a person with their relationships, events and devices.
func (w *writer) deletePerson(ref herald.PersonRef) error {
	p, err := w.findPerson(ref)
	if err != nil || p == nil {
		return err
	}
	return w.removePerson(p)
}

func (w *writer) removePerson(p *personRow) error {
	if err := w.flushRows(); err != nil {
		return err
	}
	rels, err := w.relatedObjects(p.pk)
	if err != nil {
		return err
	}
	if _, err := w.exec("DELETE FROM people WHERE pk = ?", p.pk); err != nil {
		return fmt.Errorf("delete person: %w", err)
	}
	for i := range rels {
		w.recordUnrelated(p, &rels[i])
	}
	w.personChange(herald.ActProfileDelete, p, nil)
	w.st.forget()
	return nil
}

// relatedObjects lists the identities of the objects person pk is related to.
func (w *writer) relatedObjects(pk int64) ([]herald.ObjectIdentity, error) {
	rows, err := w.query(`SELECT o.type_id, o.object_id, o.cio_object_id FROM relationships r
		JOIN objects o ON o.pk = r.object_pk WHERE r.person_pk = ?`, pk)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.ObjectIdentity
	for rows.Next() {
		var o herald.ObjectIdentity
		if err := rows.Scan(&o.TypeID, &o.ObjectID, &o.CioObjectID); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// suppressed reports whether any of the identifiers is blocked by a suppression.
func (w *writer) suppressed(ref herald.PersonRef, id, email string) (bool, error) {
	if !w.s.mayHaveSuppressions(w.ctx, w.tx, w.ws) {
		return false, nil
	}
	vals := map[string]string{string(ref.Kind): ref.Value}
	if ref.Kind == herald.ByEmail {
		vals["email"] = herald.NormalizeEmail(ref.Value)
	}
	if id != "" {
		vals["id"] = id
	}
	if email != "" {
		vals["email"] = herald.NormalizeEmail(email)
	}
	for kind, v := range vals {
		var n int
		if err := w.queryRow("SELECT COUNT(*) FROM suppressions WHERE workspace_id = ? AND kind = ? AND value = ?", w.ws, kind, v).Scan(&n); err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// suppressPerson deletes the person and blocks their identifiers, or lifts the block.
func (w *writer) suppressPerson(op *herald.SuppressPerson) error {
	value := op.Ref.Value
	if op.Ref.Kind == herald.ByEmail {
		value = herald.NormalizeEmail(value)
	}
	if op.Unsuppress {
		// Lift every block the suppression made (id, email and cio_id together).
		if _, err := w.exec(`DELETE FROM suppressions WHERE workspace_id = ? AND suppression IN
			(SELECT suppression FROM suppressions WHERE workspace_id = ? AND kind = ? AND value = ?)`, w.ws, w.ws, string(op.Ref.Kind), value); err != nil {
			return err
		}
		w.record(nil, herald.Change{Type: herald.ActUnsuppress, Customer: refIdentifiers(op.Ref)})
		return nil
	}
	p, err := w.findPerson(op.Ref)
	if err != nil {
		return err
	}
	block := map[string]string{string(op.Ref.Kind): value}
	ids := refIdentifiers(op.Ref)
	if p != nil {
		ids = p.identifiers()
		if p.extID != "" {
			block["id"] = p.extID
		}
		if p.email != "" {
			block["email"] = herald.NormalizeEmail(p.email)
		}
		block["cio_id"] = p.cioID
		if err := w.removePerson(p); err != nil {
			return err
		}
	}
	group := string(op.Ref.Kind) + ":" + value
	if p != nil {
		group = "cio_id:" + p.cioID
	}
	for kind, v := range block {
		if _, err := w.exec(`INSERT INTO suppressions (workspace_id, kind, value, suppression, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, kind, value) DO UPDATE SET suppression = excluded.suppression`, w.ws, kind, v, group, w.now); err != nil {
			return err
		}
	}
	w.s.noteSuppressions(w.ws)
	w.record(nil, herald.Change{Type: herald.ActSuppress, Customer: ids})
	return nil
}

func refIdentifiers(ref herald.PersonRef) *herald.Identifiers {
	ids := &herald.Identifiers{}
	switch ref.Kind {
	case herald.ByID:
		ids.ID = ref.Value
	case herald.ByEmail:
		ids.Email = ref.Value
	case herald.ByCioID:
		ids.CioID = ref.Value
	case herald.ByAnonymousID:
		ids.AnonymousID = ref.Value
	}
	return ids
}
