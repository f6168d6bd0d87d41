package trackapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/heraldhq/herald"
)

// v2Op is the wire shape of one Track v2 operation.
type v2Op struct {
	Type             string          `json:"type"`
	Action           string          `json:"action"`
	Identifiers      json.RawMessage `json:"identifiers"`
	Attributes       json.RawMessage `json:"attributes"`
	CioRelationships json.RawMessage `json:"cio_relationships"`
	Name             json.RawMessage `json:"name"`
	ID               json.RawMessage `json:"id"`
	Timestamp        json.RawMessage `json:"timestamp"`
	Device           json.RawMessage `json:"device"`
	Primary          json.RawMessage `json:"primary"`
	Secondary        json.RawMessage `json:"secondary"`
}

// ParseOp turns one Track v2 operation into a validated herald.Op. Errors name the field.
func ParseOp(raw json.RawMessage) (herald.Op, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, herald.Errorf(herald.Invalid, "", "an operation must be a JSON object")
	}
	var in v2Op
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, herald.Errorf(herald.Invalid, "", "invalid operation: %s", jsonErr(err))
	}
	var op herald.Op
	var err error
	switch in.Type {
	case "person":
		op, err = parsePersonOp(&in)
	case "object":
		op, err = parseObjectOp(&in)
	case "delivery":
		op, err = parseDeliveryOp(&in)
	case "":
		return nil, herald.Errorf(herald.Required, "type", "is required: person, object or delivery")
	default:
		return nil, herald.Errorf(herald.Invalid, "type", "must be person, object or delivery, got %q", in.Type)
	}
	if err != nil {
		return nil, err
	}
	if err := op.Validate(); err != nil {
		return nil, err
	}
	return op, nil
}

func parsePersonOp(in *v2Op) (herald.Op, error) {
	if in.Action == "merge" {
		primary, err := personIdentifiers(in.Primary, "primary", false)
		if err != nil {
			return nil, err
		}
		secondary, err := personIdentifiers(in.Secondary, "secondary", false)
		if err != nil {
			return nil, err
		}
		return &herald.MergePeople{Primary: primary, Secondary: secondary}, nil
	}
	events := in.Action == "event" || in.Action == "page" || in.Action == "screen"
	ref, err := personIdentifiers(in.Identifiers, "identifiers", events)
	if err != nil {
		return nil, err
	}
	attrs, err := herald.ParseAttributes(in.Attributes, "attributes")
	if err != nil {
		return nil, err
	}
	ts, err := herald.Int64Value(in.Timestamp, "timestamp")
	if err != nil {
		return nil, err
	}
	switch in.Action {
	case "identify":
		rels, err := toObjects(in.CioRelationships, "cio_relationships")
		if err != nil {
			return nil, err
		}
		return &herald.IdentifyPerson{Ref: ref, Attributes: attrs, Timestamp: ts, Relationships: rels}, nil
	case "delete":
		return &herald.DeletePerson{Ref: ref}, nil
	case "event", "page", "screen":
		name, err := str(in.Name, "name")
		if err != nil {
			return nil, err
		}
		dedupe, err := str(in.ID, "id")
		if err != nil {
			return nil, err
		}
		data, _ := json.Marshal(attrs)
		if attrs == nil {
			data = nil
		}
		e := herald.Event{Name: name, Type: herald.EventType(in.Action), DedupeID: dedupe, Timestamp: ts, Data: data}
		if ref.Kind == herald.ByAnonymousID {
			e.AnonymousID = ref.Value
		} else {
			e.Person = ref
		}
		return &herald.TrackEvent{Event: e}, nil
	case "add_relationships", "delete_relationships":
		rels, err := toObjects(in.CioRelationships, "cio_relationships")
		if err != nil {
			return nil, err
		}
		return &herald.PersonRelationships{Ref: ref, Delete: in.Action == "delete_relationships", Items: rels}, nil
	case "add_device":
		d, err := parseDevice(in.Device, "device", "token")
		if err != nil {
			return nil, err
		}
		return &herald.AddDevice{Ref: ref, Device: d}, nil
	case "delete_device":
		m, err := object(in.Device, "device")
		if err != nil {
			return nil, err
		}
		token, err := str(m["token"], "device.token")
		if err != nil {
			return nil, err
		}
		if token == "" {
			return nil, herald.Errorf(herald.Required, "device.token", "is required")
		}
		return &herald.DeleteDevice{Ref: ref, Token: token}, nil
	case "suppress", "unsuppress":
		return &herald.SuppressPerson{Ref: ref, Unsuppress: in.Action == "unsuppress"}, nil
	case "":
		return nil, herald.Errorf(herald.Required, "action", "is required")
	default:
		return nil, herald.Errorf(herald.Invalid, "action", "%q is not a person action (identify, delete, event, page, screen, add_relationships, delete_relationships, add_device, delete_device, merge, suppress, unsuppress)", in.Action)
	}
}

func parseObjectOp(in *v2Op) (herald.Op, error) {
	ref, err := objectIdentifiers(in.Identifiers, "identifiers")
	if err != nil {
		return nil, err
	}
	switch in.Action {
	case "identify", "identify_anonymous":
		if ref.CioObjectID == "" && ref.TypeID == 0 {
			return nil, herald.Errorf(herald.Required, "identifiers.object_type_id", "is required with object_id")
		}
		attrs, err := herald.ParseAttributes(in.Attributes, "attributes")
		if err != nil {
			return nil, err
		}
		anonymous := in.Action == "identify_anonymous"
		people, err := toPeople(in.CioRelationships, "cio_relationships", anonymous)
		if err != nil {
			return nil, err
		}
		ts, err := herald.Int64Value(in.Timestamp, "timestamp")
		if err != nil {
			return nil, err
		}
		return &herald.IdentifyObject{Ref: ref, Attributes: attrs, People: people, Anonymous: anonymous, Timestamp: ts}, nil
	case "delete":
		return &herald.DeleteObject{Ref: ref}, nil
	case "add_relationships", "delete_relationships":
		people, err := toPeople(in.CioRelationships, "cio_relationships", false)
		if err != nil {
			return nil, err
		}
		return &herald.ObjectRelationships{Ref: ref, Delete: in.Action == "delete_relationships", People: people}, nil
	case "":
		return nil, herald.Errorf(herald.Required, "action", "is required")
	default:
		return nil, herald.Errorf(herald.Invalid, "action", "%q is not an object action (identify, identify_anonymous, delete, add_relationships, delete_relationships)", in.Action)
	}
}

// parseDevice reads a device object whose token field is named tokenField ("token" in v2,
// "id" in v1).
func parseDevice(raw json.RawMessage, field, tokenField string) (herald.Device, error) {
	var d herald.Device
	m, err := object(raw, field)
	if err != nil {
		return d, err
	}
	if m == nil {
		return d, herald.Errorf(herald.Required, field, "is required")
	}
	if d.Token, err = str(m[tokenField], field+"."+tokenField); err != nil {
		return d, err
	}
	if d.Platform, err = str(m["platform"], field+".platform"); err != nil {
		return d, err
	}
	if d.LastUsed, err = herald.Int64Value(m["last_used"], field+".last_used"); err != nil {
		return d, err
	}
	if d.Attributes, err = herald.ParseAttributes(m["attributes"], field+".attributes"); err != nil {
		return d, err
	}
	return d, nil
}

// v2Error is one entry of a v2 error response.
type v2Error struct {
	BatchIndex *int   `json:"batch_index,omitempty"`
	Reason     string `json:"reason"`
	Field      string `json:"field"`
	Message    string `json:"message"`
}

func toV2Error(err error, index *int) v2Error {
	e := herald.AsError(err)
	msg := e.Message
	if e.Code == herald.Internal || msg == "" {
		msg = publicMessage(err)
	}
	return v2Error{BatchIndex: index, Reason: string(e.Code), Field: e.Field, Message: msg}
}

func (h *Handler) entity(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	body, err := readBody(r, MaxEntityBytes)
	if err != nil {
		writeJSON(w, statusOf(err), map[string]any{"errors": []v2Error{toV2Error(err, nil)}})
		return
	}
	op, err := ParseOp(body)
	if err == nil {
		err = h.apply(r.Context(), ws.ID, []herald.Op{op})[0]
	}
	if err != nil {
		writeJSON(w, statusOf(err), map[string]any{"errors": []v2Error{toV2Error(err, nil)}})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// ParseBatch splits a v2 batch body into operations; per-operation problems come back in
// errs (indexed like the batch), whole-body problems as err.
func ParseBatch(body []byte) (ops []herald.Op, errs []error, err error) {
	var in struct {
		Batch []json.RawMessage `json:"batch"`
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, herald.Errorf(herald.Required, "batch", "the body must be {\"batch\": [operations]}")
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, nil, herald.Errorf(herald.Invalid, "body", "is not valid JSON: %s", jsonErr(err))
	}
	if in.Batch == nil {
		return nil, nil, herald.Errorf(herald.Required, "batch", "is required: an array of operations")
	}
	ops = make([]herald.Op, len(in.Batch))
	errs = make([]error, len(in.Batch))
	for i, raw := range in.Batch {
		if len(raw) > MaxEntityBytes {
			errs[i] = herald.Errorf(herald.TooLarge, "", "the operation is %d bytes; at most %d are allowed", len(raw), MaxEntityBytes)
			continue
		}
		ops[i], errs[i] = ParseOp(raw)
	}
	return ops, errs, nil
}

func (h *Handler) batch(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	body, err := readBody(r, MaxBatchBytes)
	if err != nil {
		writeJSON(w, statusOf(err), map[string]any{"errors": []v2Error{toV2Error(err, nil)}})
		return
	}
	ops, errs, err := ParseBatch(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []v2Error{toV2Error(err, nil)}})
		return
	}
	valid := make([]herald.Op, 0, len(ops))
	index := make([]int, 0, len(ops))
	for i, op := range ops {
		if errs[i] == nil {
			valid = append(valid, op)
			index = append(index, i)
		}
	}
	if len(valid) > 0 {
		applied := h.apply(r.Context(), ws.ID, valid)
		for j, err := range applied {
			if err != nil {
				errs[index[j]] = err
			}
		}
	}
	var out []v2Error
	status := http.StatusMultiStatus
	for i, err := range errs {
		if err != nil {
			out = append(out, toV2Error(err, &i))
			if herald.ErrorCode(err) == herald.Internal {
				status = http.StatusInternalServerError
			}
		}
	}
	if len(out) == 0 {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	writeJSON(w, status, map[string]any{"errors": out})
}
