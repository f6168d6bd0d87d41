package store

import (
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald"
)

// trackEvent records an event. An event for an unknown id or email creates that person; an
// anonymous event is kept under its anonymous id until a person claims it. A repeated event
// id is ignored.
func (w *writer) trackEvent(op *herald.TrackEvent) error {
	e := op.Event
	var p *personRow
	var err error
	if !e.Person.IsZero() {
		if p, err = w.ensurePerson(e.Person); err != nil || p == nil {
			return err
		}
	} else if e.AnonymousID != "" {
		if p, err = w.findPerson(herald.PersonRef{Kind: herald.ByAnonymousID, Value: e.AnonymousID}); err != nil {
			return err
		}
	}
	if e.DedupeID != "" {
		seen, known := w.st.dedupe[e.DedupeID]
		if !known {
			var n int
			if err := w.queryRow("SELECT COUNT(*) FROM events WHERE workspace_id = ? AND dedupe_id = ?", w.ws, e.DedupeID).Scan(&n); err != nil {
				return err
			}
			seen = n > 0
		}
		if seen {
			return nil // a repeat of an event id already recorded
		}
		w.st.dedupe[e.DedupeID] = true
	}
	ts := e.Timestamp
	if ts == 0 {
		ts = w.now
	}
	w.mutated = true
	w.st.events = append(w.st.events, &eventRow{p: p, e: e, ts: ts, anonID: e.AnonymousID})
	c := herald.Change{Type: string(e.Type), Timestamp: ts, Name: e.Name, Data: e.Data}
	if p == nil && e.AnonymousID != "" {
		c.Customer = &herald.Identifiers{AnonymousID: e.AnonymousID}
	}
	w.record(p, c)
	return nil
}

// adoptAnonymous gives person p the events and relationships recorded under p's anonymous id.
func (w *writer) adoptAnonymous(p *personRow) error {
	if err := w.flushRows(); err != nil {
		return err
	}
	res, err := w.exec("UPDATE events SET person_pk = ? WHERE workspace_id = ? AND anonymous_id = ? AND person_pk IS NULL", p.pk, w.ws, p.anonID)
	if err != nil {
		return fmt.Errorf("merge anonymous events: %w", err)
	}
	rows, err := w.query(`SELECT `+prefixed("o.", objectCols)+`, a.attributes FROM anonymous_relationships a
		JOIN objects o ON o.pk = a.object_pk WHERE a.workspace_id = ? AND a.anonymous_id = ?`, w.ws, p.anonID)
	if err != nil {
		return err
	}
	type anonRel struct {
		o     *objectRow
		attrs herald.Attributes
	}
	var rels []anonRel
	for rows.Next() {
		var o objectRow
		var attrs, ts, relAttrs []byte
		if err := rows.Scan(&o.pk, &o.typeID, &o.objectID, &o.cioID, &attrs, &ts, &o.createdAt, &o.updatedAt, &relAttrs); err != nil {
			rows.Close()
			return err
		}
		var ra herald.Attributes
		if err := json.Unmarshal(relAttrs, &ra); err != nil {
			rows.Close()
			return err
		}
		rels = append(rels, anonRel{o: w.st.addObject(&o), attrs: ra})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range rels {
		if err := w.relate(p, r.o, r.attrs, w.now); err != nil {
			return err
		}
	}
	if len(rels) > 0 {
		if _, err := w.exec("DELETE FROM anonymous_relationships WHERE workspace_id = ? AND anonymous_id = ?", w.ws, p.anonID); err != nil {
			return err
		}
	}
	if n, _ := res.RowsAffected(); n > 0 || len(rels) > 0 {
		data, _ := json.Marshal(map[string]any{"anonymous_id": p.anonID, "events": n, "relationships": len(rels)})
		w.personChange(herald.ActAnonymousEventMerged, p, data)
	}
	return nil
}

// addDevice registers or updates a push device.
func (w *writer) addDevice(op *herald.AddDevice) error {
	p, err := w.ensurePerson(op.Ref)
	if err != nil || p == nil {
		return err
	}
	if err := w.flushRows(); err != nil { // the person may be new
		return err
	}
	d := op.Device
	attrs := d.Attributes
	if attrs == nil {
		attrs = herald.Attributes{}
	}
	if _, err := w.exec(`INSERT INTO devices (person_pk, token, platform, last_used, attributes, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (person_pk, token) DO UPDATE SET platform = excluded.platform, last_used = excluded.last_used,
		attributes = excluded.attributes, updated_at = excluded.updated_at`,
		p.pk, d.Token, d.Platform, d.LastUsed, encodeJSON(attrs), w.now); err != nil {
		return fmt.Errorf("upsert device: %w", err)
	}
	data, _ := json.Marshal(map[string]any{"action": "add", "platform": d.Platform, "last_used": d.LastUsed, "attributes": attrs})
	w.record(p, herald.Change{Type: herald.ActDeviceChange, Name: d.Token, Data: data})
	return nil
}

// deleteDevice removes a push device.
func (w *writer) deleteDevice(op *herald.DeleteDevice) error {
	p, err := w.findPerson(op.Ref)
	if err != nil || p == nil {
		return err
	}
	if err := w.flushRows(); err != nil {
		return err
	}
	res, err := w.exec("DELETE FROM devices WHERE person_pk = ? AND token = ?", p.pk, op.Token)
	if err != nil {
		return fmt.Errorf("delete device: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		w.record(p, herald.Change{Type: herald.ActDeviceChange, Name: op.Token, Data: json.RawMessage(`{"action":"delete"}`)})
	}
	return nil
}

func prefixed(prefix, cols string) string {
	out := ""
	start := 0
	for i := 0; i <= len(cols); i++ {
		if i == len(cols) || cols[i] == ',' {
			col := cols[start:i]
			for len(col) > 0 && col[0] == ' ' {
				col = col[1:]
			}
			if out != "" {
				out += ", "
			}
			out += prefix + col
			start = i + 1
		}
	}
	return out
}
