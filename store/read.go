package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/heraldhq/herald"
)

// Person returns the person ref addresses, or a NotFound error.
func (s *Store) Person(ctx context.Context, ws int64, ref herald.PersonRef) (*herald.Person, error) {
	p, err := s.findPerson(ctx, s.reader(), ws, ref, "")
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, herald.Errorf(herald.NotFound, "", "no person has %s", ref)
	}
	return p.person(), nil
}

// Devices lists a person's push devices.
func (s *Store) Devices(ctx context.Context, personPK int64) ([]herald.Device, error) {
	rows, err := s.reader().QueryContext(ctx, s.q("SELECT token, platform, last_used, attributes FROM devices WHERE person_pk = ? ORDER BY token"), personPK)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []herald.Device{}
	for rows.Next() {
		var d herald.Device
		var attrs []byte
		if err := rows.Scan(&d.Token, &d.Platform, &d.LastUsed, &attrs); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(attrs, &d.Attributes); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Object returns the object ref addresses, or a NotFound error.
func (s *Store) Object(ctx context.Context, ws int64, ref herald.ObjectRef) (*herald.Object, error) {
	o, err := s.findObject(ctx, s.r, ws, ref, "")
	if err != nil {
		return nil, err
	}
	if o == nil || (ref.TypeID != 0 && o.typeID != ref.TypeID) {
		return nil, herald.Errorf(herald.NotFound, "", "no object has %s", ref)
	}
	return o.object(), nil
}

// ObjectPeople lists the people related to object pk, with relationship attributes.
func (s *Store) ObjectPeople(ctx context.Context, objectPK int64, page herald.Page) ([]herald.Relationship, int64, error) {
	return s.relationships(ctx, `SELECT p.pk, p.ext_id, p.email, p.cio_id, o.type_id, o.object_id, o.cio_object_id,
		r.attributes, r.attr_ts, r.created_at, r.updated_at
		FROM relationships r JOIN people p ON p.pk = r.person_pk JOIN objects o ON o.pk = r.object_pk
		WHERE r.object_pk = ? AND r.person_pk > ? ORDER BY r.person_pk LIMIT ?`, objectPK, page)
}

// PersonObjects lists the objects person pk is related to, with relationship attributes,
// newest relationship first within each page's order of objects.
func (s *Store) PersonObjects(ctx context.Context, personPK int64, page herald.Page) ([]herald.Relationship, int64, error) {
	return s.relationships(ctx, `SELECT o.pk, p.ext_id, p.email, p.cio_id, o.type_id, o.object_id, o.cio_object_id,
		r.attributes, r.attr_ts, r.created_at, r.updated_at
		FROM relationships r JOIN people p ON p.pk = r.person_pk JOIN objects o ON o.pk = r.object_pk
		WHERE r.person_pk = ? AND r.object_pk > ? ORDER BY r.object_pk LIMIT ?`, personPK, page)
}

func (s *Store) relationships(ctx context.Context, query string, key int64, page herald.Page) ([]herald.Relationship, int64, error) {
	limit := page.PageLimit()
	rows, err := s.r.QueryContext(ctx, s.q(query), key, page.After, limit+1)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []herald.Relationship{}
	var last, next int64
	for rows.Next() {
		var r herald.Relationship
		var ext, email sql.NullString
		var attrs, ts []byte
		if err := rows.Scan(&last, &ext, &email, &r.Person.CioID, &r.Object.TypeID, &r.Object.ObjectID, &r.Object.CioObjectID,
			&attrs, &ts, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, 0, err
		}
		if len(out) == limit {
			break
		}
		r.Person.ID, r.Person.Email = ext.String, email.String
		if err := decodeAttrs(attrs, ts, &r.Attributes, &r.Timestamps); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
		next = last
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) < limit || last == next {
		next = 0
	}
	return out, next, nil
}

// scanChunk is how many rows a filtered scan reads per query.
const scanChunk = 500

// FindObjects lists objects of a type whose attributes satisfy match, in creation order.
func (s *Store) FindObjects(ctx context.Context, ws int64, typeID int, match func(*herald.Object) bool, page herald.Page) ([]herald.Object, int64, error) {
	if _, err := s.objectType(ctx, s.r, ws, typeID); err != nil {
		return nil, 0, err
	}
	limit := page.PageLimit()
	out := []herald.Object{}
	after := page.After
	for {
		rows, err := s.r.QueryContext(ctx, s.q("SELECT "+objectCols+" FROM objects WHERE workspace_id = ? AND type_id = ? AND pk > ? ORDER BY pk LIMIT ?"),
			ws, typeID, after, scanChunk)
		if err != nil {
			return nil, 0, err
		}
		n := 0
		for rows.Next() {
			n++
			o, err := scanObject(rows)
			if err != nil {
				rows.Close()
				return nil, 0, err
			}
			after = o.pk
			if obj := o.object(); match(obj) {
				if len(out) == limit {
					rows.Close()
					return out, out[len(out)-1].PK, nil
				}
				out = append(out, *obj)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
		if n < scanChunk {
			return out, 0, nil
		}
	}
}

// FindPeople lists people whose profile satisfies match, in creation order.
func (s *Store) FindPeople(ctx context.Context, ws int64, match func(*herald.Person) bool, page herald.Page) ([]herald.Person, int64, error) {
	limit := page.PageLimit()
	out := []herald.Person{}
	after := page.After
	for {
		rows, err := s.r.QueryContext(ctx, s.q("SELECT "+personCols+" FROM people WHERE workspace_id = ? AND pk > ? ORDER BY pk LIMIT ?"),
			ws, after, scanChunk)
		if err != nil {
			return nil, 0, err
		}
		n := 0
		for rows.Next() {
			n++
			p, err := scanPerson(rows)
			if err != nil {
				rows.Close()
				return nil, 0, err
			}
			after = p.pk
			if person := p.person(); match(person) {
				if len(out) == limit {
					rows.Close()
					return out, out[len(out)-1].PK, nil
				}
				out = append(out, *person)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
		if n < scanChunk {
			return out, 0, nil
		}
	}
}
