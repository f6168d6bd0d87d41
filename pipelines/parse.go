package pipelines

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// call is the wire shape of one Segment-spec call.
type call struct {
	Type        string          `json:"type"`
	UserID      json.RawMessage `json:"userId"`
	AnonymousID json.RawMessage `json:"anonymousId"`
	MessageID   string          `json:"messageId"`
	Timestamp   json.RawMessage `json:"timestamp"`
	Traits      json.RawMessage `json:"traits"`
	Properties  json.RawMessage `json:"properties"`
	Event       string          `json:"event"`
	Name        string          `json:"name"`
	GroupID     json.RawMessage `json:"groupId"`
	PreviousID  json.RawMessage `json:"previousId"`
	Context     json.RawMessage `json:"context"`
}

// ParseCall turns one call of the given type into validated ops. batchContext is the batch's
// shared context, used where the call has none.
func ParseCall(kind string, raw []byte, batchContext json.RawMessage) ([]herald.Op, error) {
	var c call
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, herald.Errorf(herald.Invalid, "body", "is not a valid JSON call: %v", err)
	}
	if len(c.Context) == 0 {
		c.Context = batchContext
	}
	userID, err := idString(c.UserID, "userId")
	if err != nil {
		return nil, err
	}
	anonID, err := idString(c.AnonymousID, "anonymousId")
	if err != nil {
		return nil, err
	}
	ts, err := timestamp(c.Timestamp)
	if err != nil {
		return nil, err
	}
	var user herald.PersonRef
	if userID != "" {
		user = personRef(userID)
	}
	var op herald.Op
	switch kind {
	case "identify":
		op, err = identify(&c, user, anonID, ts)
	case "track":
		op, err = track(&c, user, anonID, ts)
	case "page", "screen":
		op, err = view(kind, &c, user, anonID, ts)
	case "group":
		op, err = group(&c, user, anonID, ts)
	case "alias":
		prev, perr := idString(c.PreviousID, "previousId")
		switch {
		case perr != nil:
			err = perr
		case userID == "":
			err = herald.Errorf(herald.Required, "userId", "is required by alias")
		default:
			op = &herald.AliasPerson{User: user, Previous: prev}
		}
	case "":
		err = herald.Errorf(herald.Required, "type", "is required in a batch: identify, track, page, screen, group or alias")
	default:
		err = herald.Errorf(herald.Invalid, "type", "%q is not a call type (identify, track, page, screen, group, alias)", kind)
	}
	if err != nil {
		return nil, err
	}
	if err := op.Validate(); err != nil {
		return nil, err
	}
	return []herald.Op{op}, nil
}

// personRef routes a userId as Customer.io's integrations do: cio_… is a cio_id, an email
// is an email, anything else an id.
func personRef(v string) herald.PersonRef {
	switch {
	case strings.HasPrefix(v, "cio_") && len(v) > 4:
		return herald.PersonRef{Kind: herald.ByCioID, Value: v[4:]}
	case herald.LooksLikeEmail(v):
		return herald.PersonRef{Kind: herald.ByEmail, Value: v}
	default:
		return herald.PersonRef{Kind: herald.ByID, Value: v}
	}
}

func identify(c *call, user herald.PersonRef, anonID string, ts int64) (herald.Op, error) {
	traits, err := herald.ParseAttributes(c.Traits, "traits")
	if err != nil {
		return nil, err
	}
	traits, err = normaliseCreatedAt(traits)
	if err != nil {
		return nil, err
	}
	if user.IsZero() {
		email, _ := traits.String("email")
		if email == "" {
			return nil, herald.Errorf(herald.Required, "userId", "identify needs a userId or traits.email")
		}
		user = herald.PersonRef{Kind: herald.ByEmail, Value: email}
	}
	return &herald.IdentifyPerson{Ref: user, AnonymousID: anonID, Attributes: traits, Timestamp: ts}, nil
}

// normaliseCreatedAt turns Segment's createdAt (ISO 8601 or unix) into created_at seconds.
func normaliseCreatedAt(a herald.Attributes) (herald.Attributes, error) {
	for _, key := range []string{"createdAt", "created_at"} {
		v, ok := a[key]
		if !ok || herald.Removes(v) {
			continue
		}
		ts, err := timestamp(v)
		if err != nil {
			return nil, herald.WithField(err, "traits."+key)
		}
		delete(a, key)
		a["created_at"] = json.RawMessage(strconv.FormatInt(ts, 10))
	}
	return a, nil
}

func track(c *call, user herald.PersonRef, anonID string, ts int64) (herald.Op, error) {
	props, err := herald.ParseAttributes(c.Properties, "properties")
	if err != nil {
		return nil, err
	}
	needUser := func() error {
		if user.IsZero() {
			return herald.Errorf(herald.Required, "userId", "%q needs a userId", c.Event)
		}
		return nil
	}
	switch c.Event {
	case "Relationship Deleted", "Object Deleted":
		ref, err := objectRef(props["objectId"], props["objectTypeId"], "properties.objectId", "properties.objectTypeId")
		if err != nil {
			return nil, err
		}
		if c.Event == "Object Deleted" {
			return &herald.DeleteObject{Ref: ref}, nil
		}
		if err := needUser(); err != nil {
			return nil, err
		}
		return &herald.PersonRelationships{Ref: user, Delete: true, Items: []herald.PersonRelationship{{Object: ref}}}, nil
	case "User Deleted":
		return &herald.DeletePerson{Ref: user}, needUser()
	case "User Suppressed", "User Unsuppressed":
		return &herald.SuppressPerson{Ref: user, Unsuppress: c.Event == "User Unsuppressed"}, needUser()
	case "Device Created or Updated", "Device Deleted":
		if err := needUser(); err != nil {
			return nil, err
		}
		var ctx struct {
			Device struct {
				Token string `json:"token"`
				Type  string `json:"type"`
			} `json:"device"`
		}
		json.Unmarshal(c.Context, &ctx)
		token := ctx.Device.Token
		if t, ok := props.String("device_id"); ok && token == "" {
			token = t
		}
		if c.Event == "Device Deleted" {
			return &herald.DeleteDevice{Ref: user, Token: token}, nil
		}
		return &herald.AddDevice{Ref: user, Device: herald.Device{Token: token, Platform: strings.ToLower(ctx.Device.Type), LastUsed: ts, Attributes: props}}, nil
	case "Report Delivery Event", "Report Content Event":
		return nil, herald.Errorf(herald.Unsupported, "event", "%q is not accepted yet", c.Event)
	case "":
		return nil, herald.Errorf(herald.Required, "event", "is required")
	}
	data, _ := json.Marshal(props)
	if props == nil {
		data = nil
	}
	return &herald.TrackEvent{Event: herald.Event{Person: user, AnonymousID: anonIfNoUser(user, anonID), Name: c.Event,
		DedupeID: c.MessageID, Timestamp: ts, Data: data}}, nil
}

func view(kind string, c *call, user herald.PersonRef, anonID string, ts int64) (herald.Op, error) {
	props, err := herald.ParseAttributes(c.Properties, "properties")
	if err != nil {
		return nil, err
	}
	name := c.Name
	if name == "" && kind == "page" {
		name, _ = props.String("url")
	}
	if name == "" {
		return nil, herald.Errorf(herald.Required, "name", "a %s call needs a name", kind)
	}
	data, _ := json.Marshal(props)
	if props == nil {
		data = nil
	}
	return &herald.TrackEvent{Event: herald.Event{Person: user, AnonymousID: anonIfNoUser(user, anonID), Name: name,
		Type: herald.EventType(kind), DedupeID: c.MessageID, Timestamp: ts, Data: data}}, nil
}

// group identifies an object: groupId is its object_id, traits.object_type_id (or
// objectTypeId, default 1) its type, traits.relationshipAttributes the relationship's
// attributes, every other trait an object attribute. The user, if any, is related to it.
func group(c *call, user herald.PersonRef, anonID string, ts int64) (herald.Op, error) {
	traits, err := herald.ParseAttributes(c.Traits, "traits")
	if err != nil {
		return nil, err
	}
	typeRaw := traits["object_type_id"]
	if typeRaw == nil {
		typeRaw = traits["objectTypeId"]
	}
	ref, err := objectRef(c.GroupID, typeRaw, "groupId", "traits.object_type_id")
	if err != nil {
		return nil, err
	}
	rel, err := herald.ParseAttributes(traits["relationshipAttributes"], "traits.relationshipAttributes")
	if err != nil {
		return nil, err
	}
	attrs := herald.Attributes{}
	for k, v := range traits {
		switch k {
		case "object_type_id", "objectTypeId", "relationshipAttributes":
		default:
			attrs[k] = v
		}
	}
	op := &herald.IdentifyObject{Ref: ref, Attributes: attrs, Timestamp: ts}
	switch {
	case !user.IsZero():
		op.People = []herald.ObjectRelationship{{Person: user, Attributes: rel}}
	case anonID != "":
		op.Anonymous = true
		op.People = []herald.ObjectRelationship{{Person: herald.PersonRef{Kind: herald.ByAnonymousID, Value: anonID}, Attributes: rel}}
	}
	return op, nil
}

func objectRef(id, typ json.RawMessage, idField, typeField string) (herald.ObjectRef, error) {
	objectID, err := idString(id, idField)
	if err != nil {
		return herald.ObjectRef{}, err
	}
	if objectID == "" {
		return herald.ObjectRef{}, herald.Errorf(herald.Required, idField, "is required")
	}
	typeID := int64(1)
	if len(typ) > 0 && !herald.Removes(typ) {
		if typeID, err = herald.Int64Value(typ, typeField); err != nil || typeID <= 0 {
			return herald.ObjectRef{}, herald.Errorf(herald.Invalid, typeField, "must be an object type id such as 1 or \"1\"")
		}
	}
	return herald.ObjectRef{TypeID: int(typeID), ObjectID: objectID}, nil
}

func anonIfNoUser(user herald.PersonRef, anonID string) string {
	if user.IsZero() {
		return anonID
	}
	return ""
}

// idString reads an identifier sent as a string or a number.
func idString(raw json.RawMessage, field string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", herald.Errorf(herald.Invalid, field, "is not a valid string")
		}
		return strings.TrimSpace(s), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", herald.Errorf(herald.Invalid, field, "must be a string or a number")
	}
	return n.String(), nil
}

// timestamp reads an ISO 8601 time or unix seconds; absent is 0 (now).
func timestamp(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return 0, nil
	}
	if raw[0] != '"' {
		return herald.Int64Value(raw, "timestamp")
	}
	var s string
	json.Unmarshal(raw, &s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, herald.Errorf(herald.Invalid, "timestamp", "must be an ISO 8601 time, got %q", s)
}
