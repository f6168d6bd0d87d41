package store

import (
	"database/sql"
	"encoding/json"

	"github.com/heraldhq/herald"
)

// queueDelivery inserts a new delivery and its first history entries. A delivery that is
// final from the start (failed to render, suppressed) is also logged as the person's activity.
func (w *writer) queueDelivery(op *herald.QueueDelivery) error {
	d := op.Delivery
	p, err := w.recipient(d)
	if err != nil {
		return err
	}
	d.PersonPK, d.WorkspaceID = p.pk, w.ws
	d.Customer = *p.identifiers()
	if d.CreatedAt == 0 {
		d.CreatedAt = w.now
	}
	d.UpdatedAt = d.CreatedAt
	if d.NextAttemptAt == 0 {
		d.NextAttemptAt = d.CreatedAt
	}
	var content sql.NullString
	if len(d.Content) > 0 {
		content = sql.NullString{String: string(d.Content), Valid: true}
	}
	_, err = w.exec(`INSERT INTO deliveries (id, workspace_id, person_pk, channel, campaign_id, action_id, template_id, transactional,
		status, reason, recipient, subject, content, retain, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, w.ws, d.PersonPK, string(d.Channel), nullInt(d.CampaignID), nullInt(d.ActionID), nullInt(d.TemplateID), d.Transactional,
		d.Status, d.Reason, d.Recipient, d.Subject, content, d.Retain, d.NextAttemptAt, d.CreatedAt, d.UpdatedAt)
	if w.s.d.isUnique(err) {
		return herald.Errorf(herald.Conflict, "delivery_id", "delivery %q exists", d.ID)
	}
	if err != nil {
		return err
	}
	if err := w.deliveryEvent(d.ID, herald.StatusQueued, d.CreatedAt, "", nil); err != nil {
		return err
	}
	if d.Status == herald.StatusQueued {
		return nil
	}
	if err := w.deliveryEvent(d.ID, d.Status, d.CreatedAt, d.Reason, nil); err != nil {
		return err
	}
	w.deliveryChange(p, d, d.Status, d.CreatedAt, map[string]any{"reason": d.Reason})
	return nil
}

// recipient returns the person a new delivery is for: the one the batch already holds, or
// the one loaded by cio_id; a delivery whose PersonPK the caller knows (it just read the
// person) needs no lookup.
func (w *writer) recipient(d *herald.Delivery) (*personRow, error) {
	ref := herald.PersonRef{Kind: herald.ByCioID, Value: d.Customer.CioID}
	if p, ok := w.st.people[personKey(ref)]; ok && p != nil && p.pk != 0 {
		return p, nil
	}
	if d.PersonPK != 0 && (d.Customer.ID != "" || d.Customer.Email != "") {
		return &personRow{pk: d.PersonPK, cioID: d.Customer.CioID, extID: d.Customer.ID, email: d.Customer.Email}, nil
	}
	p, err := w.findPerson(ref)
	if err != nil {
		return nil, err
	}
	if p == nil || p.pk == 0 {
		return nil, herald.Errorf(herald.NotFound, "identifiers", "no person with cio_id %q", d.Customer.CioID)
	}
	return p, nil
}

// deliveryMetric applies a DeliveryMetric op. Outcomes of a send attempt (sent, bounced,
// failed, attempted) apply only while the delivery is pending, so that a late or repeated
// report cannot undo a later state; other metrics always join the history and advance the
// status when they rank higher.
func (w *writer) deliveryMetric(op *herald.DeliveryMetric) error {
	lock := w.s.d.forUpdate()
	if lock != "" {
		lock += " OF d" // the people side of the join may be gone
	}
	d, err := scanDelivery(w.queryRow("SELECT "+deliveryCols+deliveryFrom+" WHERE d.id = ? AND d.workspace_id = ?"+lock, op.DeliveryID, w.ws))
	if err != nil {
		return err
	}
	ts := op.Timestamp
	if ts == 0 {
		ts = w.now
	}
	attemptOutcome := op.Metric == herald.StatusSent || op.Metric == herald.StatusAttempted ||
		(op.Attempt > 0 && (op.Metric == herald.StatusBounced || op.Metric == herald.StatusFailed))
	if attemptOutcome && herald.Final(d.Status) {
		return nil // already settled: a repeated report of the same attempt
	}
	status := d.Status
	switch {
	case op.Metric == herald.StatusAttempted || attemptOutcome:
		status = op.Metric
	case !herald.Final(d.Status):
		// A metric reported about a message not sent yet joins the history only: the sender
		// decides what happens to a pending delivery.
	case herald.Advances(d.Status, op.Metric):
		status = op.Metric
	}
	reason := d.Reason
	if op.Reason != "" && (op.Metric == herald.StatusFailed || op.Metric == herald.StatusBounced || op.Metric == herald.StatusAttempted) {
		reason = op.Reason
	}
	next := d.NextAttemptAt
	if op.Metric == herald.StatusAttempted {
		next = op.RetryAt
	}
	if op.Content == nil { // the stored content stays as it is
		_, err = w.exec("UPDATE deliveries SET status = ?, reason = ?, next_attempt_at = ?, lease_until = 0, updated_at = ? WHERE id = ?",
			status, reason, next, w.now, d.ID)
	} else {
		var content sql.NullString
		if len(op.Content) > 0 {
			content = sql.NullString{String: string(op.Content), Valid: true}
		}
		_, err = w.exec("UPDATE deliveries SET status = ?, reason = ?, content = ?, next_attempt_at = ?, lease_until = 0, updated_at = ? WHERE id = ?",
			status, reason, content, next, w.now, d.ID)
	}
	if err != nil {
		return err
	}
	data := map[string]any{}
	if op.Href != "" {
		data["href"] = op.Href
	}
	if op.Recipient != "" {
		data["recipient"] = op.Recipient
	}
	if op.Attempt > 0 {
		data["attempt"] = op.Attempt
	}
	var raw json.RawMessage
	if len(data) > 0 {
		raw, _ = json.Marshal(data)
	}
	if err := w.deliveryEvent(d.ID, op.Metric, ts, op.Reason, raw); err != nil {
		return err
	}
	if op.Metric == herald.StatusAttempted {
		return nil // retries are history, not activity
	}
	if d.Customer.CioID == "" {
		return nil // the person is gone: the delivery keeps its history
	}
	data["reason"] = op.Reason
	// The delivery's join with people has the identifiers the change record needs.
	p := &personRow{pk: d.PersonPK, cioID: d.Customer.CioID, extID: d.Customer.ID, email: d.Customer.Email}
	w.deliveryChange(p, d, op.Metric, ts, data)
	return nil
}

func (w *writer) deliveryEvent(id, metric string, ts int64, reason string, data json.RawMessage) error {
	_, err := w.exec("INSERT INTO delivery_events (delivery_id, metric, timestamp, reason, data) VALUES (?, ?, ?, ?, ?)",
		id, metric, ts, reason, nullJSON(data))
	return err
}

// deliveryChange logs a delivery metric as the person's activity, "<metric>_<channel>" with
// the delivery id in the data, as Customer.io's activity records carry it.
func (w *writer) deliveryChange(p *personRow, d *herald.Delivery, metric string, ts int64, data map[string]any) {
	out := map[string]any{"delivery_id": d.ID}
	for k, v := range data {
		if v != "" && v != nil {
			out[k] = v
		}
	}
	if d.CampaignID != 0 {
		out["campaign_id"] = d.CampaignID
	}
	if d.TemplateID != 0 {
		out["transactional_message_id"] = d.TemplateID
	}
	raw, _ := json.Marshal(out)
	w.record(p, herald.Change{Type: herald.DeliveryActivity(metric, d.Channel), Timestamp: ts, Data: raw})
}

func nullInt(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: n != 0} }
