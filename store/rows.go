package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldhq/herald"
)

// personRow is a person as the write path loads it.
type personRow struct {
	pk                   int64
	cioID, extID, email  string
	anonID               string
	attrs                herald.Attributes
	ts                   map[string]int64
	createdAt, updatedAt int64
	isNew, dirty         bool // not yet inserted; changed since loaded (see state)
}

const personCols = "pk, cio_id, ext_id, email, anonymous_id, attributes, attr_ts, created_at, updated_at"

func scanPerson(row interface{ Scan(...any) error }) (*personRow, error) {
	var p personRow
	var ext, email, anon sql.NullString
	var attrs, ts []byte
	err := row.Scan(&p.pk, &p.cioID, &ext, &email, &anon, &attrs, &ts, &p.createdAt, &p.updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.extID, p.email, p.anonID = ext.String, email.String, anon.String
	if err := decodeAttrs(attrs, ts, &p.attrs, &p.ts); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *personRow) identifiers() *herald.Identifiers {
	return &herald.Identifiers{ID: p.extID, Email: p.email, CioID: p.cioID}
}

func (p *personRow) person() *herald.Person {
	return &herald.Person{PK: p.pk, CioID: p.cioID, ID: p.extID, Email: p.email, AnonymousID: p.anonID,
		Attributes: p.attrs, Timestamps: p.ts, CreatedAt: p.createdAt, UpdatedAt: p.updatedAt}
}

// objectRow is an object as the write path loads it.
type objectRow struct {
	pk                   int64
	typeID               int
	objectID, cioID      string
	attrs                herald.Attributes
	ts                   map[string]int64
	raw, rawTS           []byte // attributes not decoded yet (see decode)
	createdAt, updatedAt int64
	isNew, dirty         bool
}

const objectCols = "pk, type_id, object_id, cio_object_id, attributes, attr_ts, created_at, updated_at"

func scanObject(row interface{ Scan(...any) error }) (*objectRow, error) {
	o, err := scanObjectLazy(row)
	if o == nil || err != nil {
		return o, err
	}
	return o, o.decode()
}

// scanObjectLazy scans an object and leaves its attributes encoded until decode: the write
// path loads every object a batch names, and relating people to one needs only its keys.
func scanObjectLazy(row interface{ Scan(...any) error }) (*objectRow, error) {
	var o objectRow
	err := row.Scan(&o.pk, &o.typeID, &o.objectID, &o.cioID, &o.raw, &o.rawTS, &o.createdAt, &o.updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if o.raw == nil {
		o.raw = []byte("{}")
	}
	return &o, nil
}

// decode decodes the attributes scanObjectLazy left encoded.
func (o *objectRow) decode() error {
	if o.raw == nil {
		return nil
	}
	err := decodeAttrs(o.raw, o.rawTS, &o.attrs, &o.ts)
	o.raw, o.rawTS = nil, nil
	return err
}

func (o *objectRow) identity() *herald.ObjectIdentity {
	return &herald.ObjectIdentity{TypeID: o.typeID, ObjectID: o.objectID, CioObjectID: o.cioID}
}

func (o *objectRow) object() *herald.Object {
	if err := o.decode(); err != nil {
		panic(fmt.Sprintf("object %d: stored attributes are not JSON: %v", o.pk, err))
	}
	return &herald.Object{PK: o.pk, TypeID: o.typeID, ObjectID: o.objectID, CioObjectID: o.cioID,
		Attributes: o.attrs, Timestamps: o.ts, CreatedAt: o.createdAt, UpdatedAt: o.updatedAt}
}

func decodeAttrs(attrs, ts []byte, a *herald.Attributes, t *map[string]int64) error {
	*a, *t = herald.Attributes{}, map[string]int64{}
	if len(attrs) > 0 {
		if err := json.Unmarshal(attrs, a); err != nil {
			return err
		}
	}
	if len(ts) > 0 {
		return json.Unmarshal(ts, t)
	}
	return nil
}

func encodeJSON(v any) string {
	switch v := v.(type) {
	case herald.Attributes:
		return encodeAttrs(v)
	case map[string]int64:
		return encodeTimes(v)
	case *herald.Identifiers:
		return encodeIdentifiers(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of raw JSON and numbers are encoded here
	}
	return string(b)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
