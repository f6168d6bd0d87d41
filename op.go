package herald

import (
	"encoding/json"
	"strings"
)

// Op is one write. Every way data comes in (Track, Pipelines, CSV, sync, UI, workflows) turns
// its input into Ops and hands them to the write path, which applies a slice of them in one
// transaction; an Op that fails changes nothing and does not stop the others.
type Op interface {
	// Validate checks everything that does not need the store and normalises the op.
	Validate() error
}

// IdentifyPerson creates or updates a person, following Customer.io's upsert rules: Ref is the
// identifier the request addresses (the v1 path, or the v2 identifiers), ID/Email/AnonymousID
// are identifiers given in the body.
type IdentifyPerson struct {
	Ref           PersonRef
	ID            string
	Email         string
	AnonymousID   string
	Attributes    Attributes
	UpdateOnly    bool  // `_update: true`: never create
	CreateOnly    bool  // only create: leave an existing person alone (imports' only_new)
	Timestamp     int64 // orders attribute writes; 0 means now
	Relationships []PersonRelationship
	Result        Result // set by the write path
}

// PersonRelationship relates the addressed person to one object.
type PersonRelationship struct {
	Object     ObjectRef
	Attributes Attributes
}

// DeletePerson deletes a person and their relationships, devices and events.
type DeletePerson struct{ Ref PersonRef }

// TrackEvent records an event for a person, or an anonymous one.
type TrackEvent struct{ Event Event }

// PersonRelationships adds (or, with Delete, removes) relationships of one person.
type PersonRelationships struct {
	Ref    PersonRef
	Delete bool
	Items  []PersonRelationship
	Result Result // set by the write path: created, updated or unchanged (first item)
}

// AddDevice registers or updates a push device for a person.
type AddDevice struct {
	Ref    PersonRef
	Device Device
}

// DeleteDevice removes a push device from a person.
type DeleteDevice struct {
	Ref   PersonRef
	Token string
}

// MergePeople merges Secondary into Primary and deletes Secondary.
type MergePeople struct{ Primary, Secondary PersonRef }

// SuppressPerson deletes a person and blocks their identifiers (or lifts the block).
type SuppressPerson struct {
	Ref        PersonRef
	Unsuppress bool
}

// IdentifyObject creates or updates an object and relates it to People. With Anonymous the
// people are anonymous ids, carried over when those visitors are identified.
type IdentifyObject struct {
	Ref        ObjectRef
	Attributes Attributes
	People     []ObjectRelationship
	Anonymous  bool
	Timestamp  int64
	UpdateOnly bool   // never create (imports' only_existing)
	CreateOnly bool   // leave an existing object alone (imports' only_new)
	Result     Result // set by the write path
}

// ObjectRelationship relates the addressed object to one person.
type ObjectRelationship struct {
	Person     PersonRef
	Attributes Attributes
}

// DeleteObject deletes an object and all its relationships.
type DeleteObject struct{ Ref ObjectRef }

// ObjectRelationships adds (or, with Delete, removes) relationships of one object.
type ObjectRelationships struct {
	Ref    ObjectRef
	Delete bool
	People []ObjectRelationship
}

// Validate normalises the identifiers in the body and checks the attributes.
func (op *IdentifyPerson) Validate() error {
	a := op.Attributes
	if v, ok := a["_update"]; ok {
		op.UpdateOnly = truthy(v)
		a = without(a, "_update")
	}
	if v, ok := a["_timestamp"]; ok {
		ts, err := Int64Value(v, "attributes._timestamp")
		if err != nil {
			return err
		}
		op.Timestamp = ts
		a = without(a, "_timestamp")
	}
	if err := CheckTimestamp("timestamp", op.Timestamp); err != nil {
		return err
	}
	for _, k := range []struct {
		name string
		dst  *string
	}{{"id", &op.ID}, {"email", &op.Email}, {"anonymous_id", &op.AnonymousID}} {
		v, ok := a[k.name]
		if !ok {
			continue
		}
		a = without(a, k.name)
		if Removes(v) {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			var n json.Number
			if k.name != "id" || json.Unmarshal(v, &n) != nil {
				return Errorf(Invalid, "attributes."+k.name, "must be a string")
			}
			s = n.String()
		}
		*k.dst = strings.TrimSpace(s)
	}
	if v, ok := a["unsubscribed"]; ok && !Removes(v) {
		a = with(a, "unsubscribed", json.RawMessage(boolJSON(truthy(v))))
	}
	if v, ok := a["created_at"]; ok && !Removes(v) {
		if _, err := Int64Value(v, "attributes.created_at"); err != nil {
			return Errorf(Invalid, "attributes.created_at", "must be a unix timestamp in seconds")
		}
	}
	op.Attributes = a
	if op.Ref.IsZero() {
		switch {
		case op.ID != "":
			op.Ref = PersonRef{Kind: ByID, Value: op.ID}
		case op.Email != "":
			op.Ref = PersonRef{Kind: ByEmail, Value: op.Email}
		default:
			return Errorf(Required, "identifiers", "a person needs an id, email or cio_id")
		}
	}
	if err := op.Ref.Validate("identifiers"); err != nil {
		return err
	}
	if op.Ref.Kind == ByAnonymousID {
		return Errorf(Invalid, "identifiers", "identify a person by id, email or cio_id; anonymous_id goes in the attributes")
	}
	for field, v := range map[string]string{"attributes.id": op.ID, "attributes.email": op.Email, "attributes.anonymous_id": op.AnonymousID} {
		if len(v) > MaxIdentifierBytes {
			return Errorf(TooLong, field, "is %d bytes; at most %d are allowed", len(v), MaxIdentifierBytes)
		}
	}
	if err := ValidateAttributes("person", op.Attributes, "attributes"); err != nil {
		return err
	}
	return validatePersonRels(op.Relationships, "cio_relationships")
}

// Validate checks the identifier.
func (op *DeletePerson) Validate() error { return op.Ref.Validate("identifiers") }

// Validate checks the event.
func (op *TrackEvent) Validate() error {
	if !op.Event.Person.IsZero() {
		if err := op.Event.Person.Validate("identifiers"); err != nil {
			return err
		}
	}
	if op.Event.AnonymousID != "" {
		if err := CheckIdentifier("anonymous_id", op.Event.AnonymousID); err != nil {
			return err
		}
	}
	return ValidateEvent(&op.Event)
}

// Validate checks the person and every relationship.
func (op *PersonRelationships) Validate() error {
	if err := op.Ref.Validate("identifiers"); err != nil {
		return err
	}
	if len(op.Items) == 0 {
		return Errorf(Required, "cio_relationships", "must list at least one relationship")
	}
	return validatePersonRels(op.Items, "cio_relationships")
}

// Validate checks the person and the device.
func (op *AddDevice) Validate() error {
	if err := op.Ref.Validate("identifiers"); err != nil {
		return err
	}
	if err := checkToken("device.id", op.Device.Token); err != nil {
		return err
	}
	switch op.Device.Platform {
	case "ios", "android":
	case "":
		return Errorf(Required, "device.platform", "is required (ios or android)")
	default:
		return Errorf(Invalid, "device.platform", "must be ios or android, got %q", op.Device.Platform)
	}
	return ValidateAttributes("device", op.Device.Attributes, "device.attributes")
}

// Validate checks the person and the token.
func (op *DeleteDevice) Validate() error {
	if err := op.Ref.Validate("identifiers"); err != nil {
		return err
	}
	return checkToken("device.id", op.Token)
}

// MaxDeviceTokenBytes bounds a push token (FCM tokens are over 150 bytes).
const MaxDeviceTokenBytes = 4096

func checkToken(field, v string) error {
	if v == "" {
		return Errorf(Required, field, "must not be empty")
	}
	if len(v) > MaxDeviceTokenBytes {
		return Errorf(TooLong, field, "is %d bytes; at most %d are allowed", len(v), MaxDeviceTokenBytes)
	}
	return nil
}

// Validate checks both identifiers.
func (op *MergePeople) Validate() error {
	if err := op.Primary.Validate("primary"); err != nil {
		return err
	}
	if err := op.Secondary.Validate("secondary"); err != nil {
		return err
	}
	if op.Primary == op.Secondary {
		return Errorf(Invalid, "secondary", "must be a different person from primary")
	}
	return nil
}

// Validate checks the identifier.
func (op *SuppressPerson) Validate() error { return op.Ref.Validate("identifiers") }

// Validate checks the object, its attributes and the people to relate.
func (op *IdentifyObject) Validate() error {
	if err := op.Ref.Validate("identifiers"); err != nil {
		return err
	}
	if err := CheckTimestamp("timestamp", op.Timestamp); err != nil {
		return err
	}
	a := op.Attributes
	if v, ok := a["created_at"]; ok && !Removes(v) {
		if _, err := Int64Value(v, "attributes.created_at"); err != nil {
			return Errorf(Invalid, "attributes.created_at", "must be a unix timestamp in seconds")
		}
	}
	if err := ValidateAttributes("object", a, "attributes"); err != nil {
		return err
	}
	if err := CheckTotal(a, "attributes", MaxEntityBytes); err != nil {
		return err
	}
	return validateObjectRels(op.People, op.Anonymous, "cio_relationships")
}

// Validate checks the identifier.
func (op *DeleteObject) Validate() error { return op.Ref.Validate("identifiers") }

// Validate checks the object and the people.
func (op *ObjectRelationships) Validate() error {
	if err := op.Ref.Validate("identifiers"); err != nil {
		return err
	}
	if len(op.People) == 0 {
		return Errorf(Required, "cio_relationships", "must list at least one person")
	}
	return validateObjectRels(op.People, false, "cio_relationships")
}

func validatePersonRels(items []PersonRelationship, field string) error {
	for i, r := range items {
		f := field + "[" + itoa(i) + "]"
		if err := r.Object.Validate(f + ".identifiers"); err != nil {
			return err
		}
		if err := validateRelAttrs(r.Attributes, f+".relationship_attributes"); err != nil {
			return err
		}
	}
	return nil
}

func validateObjectRels(items []ObjectRelationship, anonymous bool, field string) error {
	for i, r := range items {
		f := field + "[" + itoa(i) + "]"
		if err := r.Person.Validate(f + ".identifiers"); err != nil {
			return err
		}
		if anonymous != (r.Person.Kind == ByAnonymousID) {
			if anonymous {
				return Errorf(Invalid, f+".identifiers", "identify_anonymous relates anonymous_id identifiers only")
			}
			return Errorf(Invalid, f+".identifiers", "anonymous_id is only accepted by identify_anonymous")
		}
		if err := validateRelAttrs(r.Attributes, f+".relationship_attributes"); err != nil {
			return err
		}
	}
	return nil
}

func validateRelAttrs(a Attributes, field string) error {
	if err := ValidateAttributes("relationship", a, field); err != nil {
		return err
	}
	return CheckTotal(a, field, MaxEntityBytes)
}

func truthy(v json.RawMessage) bool {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(string(v)), `"`))
	return s == "true" || s == "1"
}

func boolJSON(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func without(a Attributes, name string) Attributes {
	b := make(Attributes, len(a))
	for k, v := range a {
		if k != name {
			b[k] = v
		}
	}
	return b
}

func with(a Attributes, name string, v json.RawMessage) Attributes {
	b := make(Attributes, len(a)+1)
	for k, x := range a {
		b[k] = x
	}
	b[name] = v
	return b
}

// AliasPerson links a previous identifier to a person, as Segment's alias call does: when
// Previous names a known person they are merged into User; otherwise Previous is taken as an
// anonymous id, whose events and relationships move to User.
type AliasPerson struct {
	User     PersonRef
	Previous string
}

// Validate checks both identifiers.
func (op *AliasPerson) Validate() error {
	if err := op.User.Validate("userId"); err != nil {
		return err
	}
	if err := CheckIdentifier("previousId", op.Previous); err != nil {
		return err
	}
	if op.Previous == op.User.Value {
		return Errorf(Invalid, "previousId", "must differ from userId")
	}
	return nil
}
