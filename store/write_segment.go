package store

import (
	"encoding/json"
	"strconv"

	"github.com/heraldhq/herald"
)

// memberKey is one (segment, person) pair of the transaction's membership state: by the
// person's key, or by its row while it has none (created in this batch).
type memberKey struct {
	segment, pk int64
	p           *personRow
}

// memberWrite is a membership row to insert (add) or delete once every person has a key.
type memberWrite struct {
	segment int64
	p       *personRow
	add     bool
}

// segmentMembership applies a SegmentMembership op: it records segment_entered or
// segment_exited for each person whose membership it changes, and queues the row writes for
// flushMembers (a person created earlier in the batch has no key until flushRows).
func (w *writer) segmentMembership(op *herald.SegmentMembership) error {
	g, err := scanSegment(w.queryRow("SELECT "+segmentCols+" FROM segments WHERE workspace_id = ? AND id = ?", w.ws, op.SegmentID))
	if herald.ErrorCode(err) == herald.NotFound {
		return herald.Errorf(herald.NotFound, "segment_id", "segment %d does not exist", op.SegmentID)
	}
	if err != nil {
		return err
	}
	if op.Manual && g.Type != herald.SegmentManual {
		return herald.Errorf(herald.Invalid, "segment_id", "segment %d is data-driven: its members follow its conditions; add people to a manual segment instead", op.SegmentID)
	}
	add, err := w.membershipPeople(op, op.Add, op.AddPKs)
	if err != nil {
		return err
	}
	remove, err := w.membershipPeople(op, op.Remove, op.RemovePKs)
	if err != nil {
		return err
	}
	if err := w.loadMembers(g.ID, add, remove); err != nil {
		return err
	}
	data, _ := json.Marshal(map[string]int64{"segment_id": g.ID})
	name := strconv.FormatInt(g.ID, 10)
	apply := func(people []*personRow, in bool) error {
		for _, p := range people {
			k := memberKey{segment: g.ID, pk: p.pk}
			if p.pk == 0 {
				k.p = p
			}
			cur, err := w.isMember(k)
			if err != nil {
				return err
			}
			if cur == in {
				continue
			}
			w.mutated = true
			w.members[k] = in
			w.memberWrites = append(w.memberWrites, memberWrite{segment: g.ID, p: p, add: in})
			typ := herald.ActSegmentExited
			if in {
				typ = herald.ActSegmentEntered
			}
			w.record(p, herald.Change{Type: typ, Name: name, Data: data})
		}
		return nil
	}
	if err := apply(add, true); err != nil {
		return err
	}
	return apply(remove, false)
}

// membershipPeople resolves an op's refs (noting those that address nobody in op.Missing) and
// keys; a key whose person is gone (a deleted person's lingering membership) still resolves.
func (w *writer) membershipPeople(op *herald.SegmentMembership, refs []herald.PersonRef, pks []int64) ([]*personRow, error) {
	var out []*personRow
	for _, r := range refs {
		p, err := w.findPerson(r)
		if err != nil {
			return nil, err
		}
		if p == nil {
			op.Missing = append(op.Missing, r)
			continue
		}
		out = append(out, p)
	}
	if len(pks) == 0 {
		return out, nil
	}
	known := map[int64]*personRow{}
	for _, p := range w.st.people {
		if p != nil && p.pk != 0 {
			known[p.pk] = p
		}
	}
	var load []any
	for _, pk := range pks {
		if known[pk] == nil {
			load = append(load, pk)
		}
	}
	for start := 0; start < len(load); start += 500 {
		in, args := w.s.d.in("pk", load[start:min(start+500, len(load))])
		rows, err := w.query("SELECT "+personCols+" FROM people WHERE "+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			p, err := scanPerson(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			known[p.pk] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, pk := range pks {
		p := known[pk]
		if p == nil {
			p = &personRow{pk: pk} // deleted: only its memberships remain
			known[pk] = p
		}
		out = append(out, p)
	}
	return out, nil
}

// loadMembers reads, in bulk, the membership in segment of the people the transaction does
// not know yet, so that isMember needs no query per person.
func (w *writer) loadMembers(segment int64, groups ...[]*personRow) error {
	var pks []any
	for _, people := range groups {
		for _, p := range people {
			if p.pk == 0 {
				continue
			}
			if _, known := w.members[memberKey{segment: segment, pk: p.pk}]; !known {
				w.members[memberKey{segment: segment, pk: p.pk}] = false
				pks = append(pks, p.pk)
			}
		}
	}
	for start := 0; start < len(pks); start += 500 {
		in, args := w.s.d.in("person_pk", pks[start:min(start+500, len(pks))])
		rows, err := w.query("SELECT person_pk FROM segment_members WHERE segment_id = ? AND "+in, append([]any{segment}, args...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var pk int64
			if err := rows.Scan(&pk); err != nil {
				rows.Close()
				return err
			}
			w.members[memberKey{segment: segment, pk: pk}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// isMember reports k's membership as this transaction sees it.
func (w *writer) isMember(k memberKey) (bool, error) {
	if in, ok := w.members[k]; ok {
		return in, nil
	}
	if k.pk == 0 { // created in this batch
		return false, nil
	}
	var n int
	err := w.queryRow("SELECT COUNT(*) FROM segment_members WHERE segment_id = ? AND person_pk = ?", k.segment, k.pk).Scan(&n)
	if err != nil {
		return false, err
	}
	w.members[k] = n > 0
	return n > 0, nil
}

// flushMembers writes the queued membership rows; every person has a key by now.
func (w *writer) flushMembers() error {
	for _, m := range w.memberWrites {
		var err error
		if m.add {
			_, err = w.exec("INSERT INTO segment_members (segment_id, person_pk, entered_at) VALUES (?, ?, ?) ON CONFLICT (segment_id, person_pk) DO NOTHING", m.segment, m.p.pk, w.now)
		} else {
			_, err = w.exec("DELETE FROM segment_members WHERE segment_id = ? AND person_pk = ?", m.segment, m.p.pk)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
