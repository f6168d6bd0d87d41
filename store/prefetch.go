package store

import (
	"sort"
	"strings"

	"github.com/heraldhq/herald"
)

// inChunk bounds the values of one IN (…) list.
const inChunk = 400

// prefetch loads, in a few queries, every person, object, relationship and event id the ops
// refer to, and records which are absent, so that applying the ops needs no lookups.
func (w *writer) prefetch(ops []herald.Op, skip []bool) error {
	people := map[herald.IdentifierKind]map[string]bool{}
	objects := map[int]map[string]bool{}
	cioObjects := map[string]bool{}
	var dedupe []string
	type pair struct {
		p herald.PersonRef
		o herald.ObjectRef
	}
	var pairs []pair
	person := func(r herald.PersonRef) {
		if r.IsZero() {
			return
		}
		v := r.Value
		if r.Kind == herald.ByEmail {
			v = herald.NormalizeEmail(v)
		}
		if people[r.Kind] == nil {
			people[r.Kind] = map[string]bool{}
		}
		people[r.Kind][v] = true
	}
	object := func(r herald.ObjectRef) {
		switch {
		case r.CioObjectID != "":
			cioObjects[r.CioObjectID] = true
		case r.TypeID > 0:
			if objects[r.TypeID] == nil {
				objects[r.TypeID] = map[string]bool{}
			}
			objects[r.TypeID][r.ObjectID] = true
		}
	}
	for i, op := range ops {
		if skip[i] {
			continue
		}
		switch op := op.(type) {
		case *herald.IdentifyPerson:
			person(op.Ref)
			person(herald.PersonRef{Kind: herald.ByID, Value: op.ID})
			person(herald.PersonRef{Kind: herald.ByEmail, Value: op.Email})
			person(herald.PersonRef{Kind: herald.ByAnonymousID, Value: op.AnonymousID})
			for _, r := range op.Relationships {
				object(r.Object)
				pairs = append(pairs, pair{op.Ref, r.Object})
			}
		case *herald.TrackEvent:
			person(op.Event.Person)
			person(herald.PersonRef{Kind: herald.ByAnonymousID, Value: op.Event.AnonymousID})
			if op.Event.DedupeID != "" {
				dedupe = append(dedupe, op.Event.DedupeID)
			}
		case *herald.PersonRelationships:
			person(op.Ref)
			for _, r := range op.Items {
				object(r.Object)
				pairs = append(pairs, pair{op.Ref, r.Object})
			}
		case *herald.IdentifyObject:
			object(op.Ref)
			if !op.Anonymous {
				for _, r := range op.People {
					person(r.Person)
					pairs = append(pairs, pair{r.Person, op.Ref})
				}
			}
		case *herald.ObjectRelationships:
			object(op.Ref)
			for _, r := range op.People {
				person(r.Person)
				pairs = append(pairs, pair{r.Person, op.Ref})
			}
		case *herald.AddDevice:
			person(op.Ref)
		}
	}
	// Kinds, types and values in a fixed order: rows are locked as they are read (PostgreSQL),
	// and two transactions that lock in the same order cannot deadlock on them.
	columns := map[herald.IdentifierKind]string{herald.ByID: "ext_id", herald.ByEmail: "email_norm", herald.ByCioID: "cio_id", herald.ByAnonymousID: "anonymous_id"}
	for _, kind := range []herald.IdentifierKind{herald.ByCioID, herald.ByID, herald.ByEmail, herald.ByAnonymousID} {
		set := people[kind]
		if len(set) == 0 {
			continue
		}
		col := columns[kind]
		if err := w.loadIn("SELECT "+personCols+" FROM people WHERE workspace_id = ? AND "+col, []any{w.ws}, toAny(keys(set)), func(row scanner) error {
			p, err := scanPerson(row)
			if err == nil {
				w.st.addPerson(p)
			}
			return err
		}); err != nil {
			return err
		}
		for v := range set {
			k := personKey(herald.PersonRef{Kind: kind, Value: v})
			if _, ok := w.st.people[k]; !ok {
				w.st.people[k] = nil
			}
		}
	}
	loadObject := func(row scanner) error {
		o, err := scanObjectLazy(row)
		if err == nil {
			w.st.addObject(o)
		}
		return err
	}
	typeIDs := make([]int, 0, len(objects))
	for typeID := range objects {
		typeIDs = append(typeIDs, typeID)
	}
	sort.Ints(typeIDs)
	for _, typeID := range typeIDs {
		set := objects[typeID]
		if _, err := w.s.objectType(w.ctx, w, w.ws, typeID); err != nil {
			continue // the op reports it
		}
		if err := w.loadIn("SELECT "+objectCols+" FROM objects WHERE workspace_id = ? AND type_id = ? AND object_id", []any{w.ws, typeID}, toAny(keys(set)), loadObject); err != nil {
			return err
		}
		for id := range set {
			k := objectKey(herald.ObjectRef{TypeID: typeID, ObjectID: id})
			if _, ok := w.st.objects[k]; !ok {
				w.st.objects[k] = nil
			}
		}
	}
	if len(cioObjects) > 0 {
		if err := w.loadIn("SELECT "+objectCols+" FROM objects WHERE workspace_id = ? AND cio_object_id", []any{w.ws}, toAny(keys(cioObjects)), loadObject); err != nil {
			return err
		}
	}
	for _, id := range dedupe {
		w.st.dedupe[id] = false
	}
	if len(dedupe) > 0 {
		if err := w.loadIn("SELECT dedupe_id FROM events WHERE workspace_id = ? AND dedupe_id", []any{w.ws}, toAny(dedupe), func(row scanner) error {
			var id string
			err := row.Scan(&id)
			w.st.dedupe[id] = true
			return err
		}); err != nil {
			return err
		}
	}
	return w.prefetchRels(func(yield func(herald.PersonRef, herald.ObjectRef)) {
		for _, pr := range pairs {
			yield(pr.p, pr.o)
		}
	})
}

// prefetchRels loads the relationships between the known people and objects of pairs.
func (w *writer) prefetchRels(pairs func(func(herald.PersonRef, herald.ObjectRef))) error {
	want := map[relKey]bool{}
	personPKs, objectPKs := map[int64]bool{}, map[int64]bool{}
	pairs(func(pr herald.PersonRef, or herald.ObjectRef) {
		p, o := w.st.people[personKey(pr)], w.st.objects[objectKey(or)]
		if p != nil && o != nil && p.pk != 0 && o.pk != 0 {
			want[relKey{p, o}] = true
			personPKs[p.pk], objectPKs[o.pk] = true, true
		}
	})
	if len(want) == 0 {
		return nil
	}
	load := func(row scanner) error {
		r := &relRow{}
		var ppk, opk int64
		var raw, rawTS []byte
		if err := row.Scan(&ppk, &opk, &raw, &rawTS, &r.since); err != nil {
			return err
		}
		r.p, r.o = w.st.byPK[ppk], w.st.objByPK[opk]
		if r.p == nil || r.o == nil {
			return nil
		}
		if err := decodeAttrs(raw, rawTS, &r.attrs, &r.ts); err != nil {
			return err
		}
		w.st.rels[relKey{r.p, r.o}] = r
		return nil
	}
	const cols = "SELECT person_pk, object_pk, attributes, attr_ts, created_at FROM relationships WHERE "
	if w.s.d.name() == "sqlite" {
		// By (person, object) pairs, through the primary key: one lookup per pair.
		pairs := make([][2]int64, 0, len(want))
		for k := range want {
			pairs = append(pairs, [2]int64{k.p.pk, k.o.pk})
		}
		sort.Slice(pairs, func(i, j int) bool {
			return pairs[i][0] < pairs[j][0] || pairs[i][0] == pairs[j][0] && pairs[i][1] < pairs[j][1]
		})
		for start := 0; start < len(pairs); start += inChunk {
			chunk := pairs[start:min(start+inChunk, len(pairs))]
			n := bucket(len(chunk))
			args := make([]any, 0, 2*n)
			for i := 0; i < n; i++ {
				pr := chunk[min(i, len(chunk)-1)] // padded with the last pair: one statement per size bucket
				args = append(args, pr[0], pr[1])
			}
			query := cols + "(person_pk, object_pk) IN (VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ") + ")"
			if err := w.each(query, args, load); err != nil {
				return err
			}
		}
	} else {
		objs := sortedKeys64(objectPKs)
		ps := sortedKeys64(personPKs)
		for start := 0; start < len(objs); start += inChunk {
			chunk := objs[start:min(start+inChunk, len(objs))]
			in, inArgs := w.s.d.in("object_pk", chunk)
			if err := w.loadIn(cols+in+" AND person_pk", inArgs, ps, load); err != nil {
				return err
			}
		}
	}
	for k := range want {
		if _, ok := w.st.rels[k]; !ok {
			w.st.rels[k] = nil
		}
	}
	return nil
}

type scanner interface{ Scan(...any) error }

// loadIn runs prefix + " IN (?, …)" (" = ANY(?)" on PostgreSQL) for values in chunks, calling
// fn for each row. The rows are
// locked until commit where the engine has row locks, so that no concurrent write is lost
// between this read and the write back.
func (w *writer) loadIn(prefix string, args []any, values []any, fn func(scanner) error) error {
	for start := 0; start < len(values); start += inChunk {
		chunk := values[start:min(start+inChunk, len(values))]
		in, inArgs := w.s.d.in("", chunk)
		if err := w.each(prefix+in+w.s.d.forUpdate(), append(append([]any{}, args...), inArgs...), fn); err != nil {
			return err
		}
	}
	return nil
}

// each runs query in the transaction and calls fn for each row.
func (w *writer) each(query string, args []any, fn func(scanner) error) error {
	rows, err := w.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// bucket rounds an IN list's length up to a power of two (at most inChunk): lists padded to it
// share a few prepared statements instead of one per length.
func bucket(n int) int {
	b := 1
	for b < n {
		b *= 2
	}
	return min(b, inChunk)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func sortedKeys64(m map[int64]bool) []any {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}
