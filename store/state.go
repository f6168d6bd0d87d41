package store

import (
	"strings"

	"github.com/heraldhq/herald"
)

// state is a write transaction's view of the rows its ops touch. Rows are loaded in bulk
// before the ops run (prefetch), changed in memory, and written back in a few multi-row
// statements (flushRows), so a batch of a hundred ops costs a handful of round trips instead of
// hundreds. Every row is held by one pointer, so changes made by one op are seen by the next.
type state struct {
	people  map[string]*personRow // "i:"+id, "e:"+email, "c:"+cio_id, "a:"+anonymous_id; nil = known absent
	byPK    map[int64]*personRow
	objects map[string]*objectRow // objectKey(type, id) or "c:"+cio_object_id; nil = known absent
	objByPK map[int64]*objectRow
	rels    map[relKey]*relRow // nil = known absent
	dedupe  map[string]bool    // event ids: true = exists, false = known absent; missing = ask the database

	newPeople, dirtyPeople   []*personRow
	newObjects, dirtyObjects []*objectRow
	dirtyRels                []*relRow
	events                   []*eventRow
}

type relKey struct {
	p *personRow
	o *objectRow
}

// relRow is a relationship held in state.
type relRow struct {
	p     *personRow
	o     *objectRow
	attrs herald.Attributes
	ts    map[string]int64
	isNew bool
	dirty bool
	since int64 // created_at
}

// eventRow is an event waiting to be inserted.
type eventRow struct {
	p      *personRow
	e      herald.Event
	ts     int64
	anonID string
}

func newState() *state {
	return &state{
		people: map[string]*personRow{}, byPK: map[int64]*personRow{},
		objects: map[string]*objectRow{}, objByPK: map[int64]*objectRow{},
		rels: map[relKey]*relRow{}, dedupe: map[string]bool{},
	}
}

func personKey(ref herald.PersonRef) string {
	switch ref.Kind {
	case herald.ByID:
		return "i:" + ref.Value
	case herald.ByEmail:
		return "e:" + herald.NormalizeEmail(ref.Value)
	case herald.ByCioID:
		return "c:" + ref.Value
	default:
		return "a:" + ref.Value
	}
}

func objectKey(ref herald.ObjectRef) string {
	if ref.CioObjectID != "" {
		return "c:" + ref.CioObjectID
	}
	return "t:" + itoa(ref.TypeID) + ":" + ref.ObjectID
}

// keys lists every key p is found by.
func (p *personRow) keys() []string {
	k := []string{"c:" + p.cioID}
	if p.extID != "" {
		k = append(k, "i:"+p.extID)
	}
	if p.email != "" {
		k = append(k, "e:"+herald.NormalizeEmail(p.email))
	}
	if p.anonID != "" {
		k = append(k, "a:"+p.anonID)
	}
	return k
}

// addPerson makes p findable by all its keys. A person already held under the same pk wins,
// so that every row has one pointer.
func (st *state) addPerson(p *personRow) *personRow {
	if p.pk != 0 {
		if have := st.byPK[p.pk]; have != nil {
			return have
		}
		st.byPK[p.pk] = p
	}
	for _, k := range p.keys() {
		st.people[k] = p
	}
	return p
}

// rekeyPerson re-indexes p after its identifiers changed from old.
func (st *state) rekeyPerson(p *personRow, oldKeys []string) {
	for _, k := range oldKeys {
		if st.people[k] == p {
			st.people[k] = nil
		}
	}
	for _, k := range p.keys() {
		st.people[k] = p
	}
}

func (st *state) addObject(o *objectRow) *objectRow {
	if o.pk != 0 {
		if have := st.objByPK[o.pk]; have != nil {
			return have
		}
		st.objByPK[o.pk] = o
	}
	st.objects["c:"+o.cioID] = o
	st.objects["t:"+itoa(o.typeID)+":"+o.objectID] = o
	return o
}

func (st *state) markPerson(p *personRow) {
	if !p.isNew && !p.dirty {
		p.dirty = true
		st.dirtyPeople = append(st.dirtyPeople, p)
	}
}

// markObject queues o to be written back; its attributes must be decoded (objectRow.decode)
// by then, as the one caller, identifyObject, does before merging into them.
func (st *state) markObject(o *objectRow) {
	if !o.isNew && !o.dirty {
		o.dirty = true
		st.dirtyObjects = append(st.dirtyObjects, o)
	}
}

func (st *state) markRel(r *relRow) {
	if !r.dirty {
		r.dirty = true
		st.dirtyRels = append(st.dirtyRels, r)
	}
}

// pending reports whether rows wait to be written.
func (st *state) pending() bool {
	return len(st.newPeople)+len(st.dirtyPeople)+len(st.newObjects)+len(st.dirtyObjects)+len(st.dirtyRels)+len(st.events) > 0
}

// forgetPeopleAndObjects drops every cached row, after an op (delete, merge …) that changed
// rows behind the cache's back; later lookups go to the database. Pending writes must have
// been flushed.
func (st *state) forget() {
	*st = *newState()
}

func itoa(n int) string {
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
		n = -n
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	b.Write(d[i:])
	return b.String()
}
