package trackapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
)

// v1Fail answers a v1 request with Customer.io's {"meta":{"errors":[…]}} shape.
func v1Fail(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), map[string]any{"meta": map[string]any{"errors": []string{publicMessage(err)}}})
}

// v1Apply applies one op and answers 200 {} or the error.
func (h *Handler) v1Apply(w http.ResponseWriter, r *http.Request, ws *herald.Workspace, op herald.Op, err error) {
	if err == nil {
		err = op.Validate()
	}
	if err == nil {
		err = h.apply(r.Context(), ws.ID, []herald.Op{op})[0]
	}
	if err != nil {
		v1Fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// v1Body reads a v1 JSON object body; an empty body is an empty object.
func v1Body(r *http.Request) (map[string]json.RawMessage, error) {
	b, err := readBody(r, MaxV1Bytes)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	m, err := object(b, "body")
	if m == nil && err == nil {
		m = map[string]json.RawMessage{}
	}
	return m, err
}

func pathRef(r *http.Request) (herald.PersonRef, error) {
	v := strings.TrimSpace(r.PathValue("identifier"))
	if v == "" {
		return herald.PersonRef{}, herald.Errorf(herald.Required, "identifier", "the path needs a person id, email or cio_<cio_id>")
	}
	return herald.PathRef(v), nil
}

func (h *Handler) identify(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	ops, err := parseV1Identify(r)
	if err == nil {
		for _, op := range ops {
			if err = op.Validate(); err != nil {
				break
			}
		}
	}
	if err == nil {
		for _, e := range h.apply(r.Context(), ws.ID, ops) {
			if e != nil {
				err = e
				break
			}
		}
	}
	if err != nil {
		v1Fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// parseV1Identify reads an identify body: attributes, plus cio_relationships to add (inside
// the identify) or to delete (a second op in the same transaction).
func parseV1Identify(r *http.Request) ([]herald.Op, error) {
	ref, err := pathRef(r)
	if err != nil {
		return nil, err
	}
	body, err := v1Body(r)
	if err != nil {
		return nil, err
	}
	op := &herald.IdentifyPerson{Ref: ref}
	var unrelate *herald.PersonRelationships
	if raw, ok := body["cio_relationships"]; ok {
		delete(body, "cio_relationships")
		rel, err := object(raw, "cio_relationships")
		if err != nil {
			return nil, err
		}
		action, err := str(rel["action"], "cio_relationships.action")
		if err != nil {
			return nil, err
		}
		items, err := toObjects(rel["relationships"], "cio_relationships.relationships")
		if err != nil {
			return nil, err
		}
		switch action {
		case "", "add_relationships":
			op.Relationships = items
		case "delete_relationships":
			if len(items) > 0 {
				unrelate = &herald.PersonRelationships{Ref: ref, Delete: true, Items: items}
			}
		default:
			return nil, herald.Errorf(herald.Invalid, "cio_relationships.action", "must be add_relationships or delete_relationships, got %q", action)
		}
	}
	op.Attributes = herald.Attributes(body)
	if unrelate != nil {
		return []herald.Op{op, unrelate}, nil
	}
	return []herald.Op{op}, nil
}

func (h *Handler) deleteCustomer(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	ref, err := pathRef(r)
	h.v1Apply(w, r, ws, &herald.DeletePerson{Ref: ref}, err)
}

func (h *Handler) suppress(unsuppress bool) func(http.ResponseWriter, *http.Request, *herald.Workspace) {
	return func(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
		ref, err := pathRef(r)
		h.v1Apply(w, r, ws, &herald.SuppressPerson{Ref: ref, Unsuppress: unsuppress}, err)
	}
}

// parseV1Event reads {name, id, type, timestamp, data[, anonymous_id]}.
func parseV1Event(r *http.Request) (herald.Event, map[string]json.RawMessage, error) {
	var e herald.Event
	body, err := v1Body(r)
	if err != nil {
		return e, nil, err
	}
	if e.Name, err = str(body["name"], "name"); err != nil {
		return e, nil, err
	}
	if e.DedupeID, err = str(body["id"], "id"); err != nil {
		return e, nil, err
	}
	typ, err := str(body["type"], "type")
	if err != nil {
		return e, nil, err
	}
	e.Type = herald.EventType(typ)
	if e.Timestamp, err = herald.Int64Value(body["timestamp"], "timestamp"); err != nil {
		return e, nil, err
	}
	if data, ok := body["data"]; ok && !herald.Removes(data) {
		if _, err := object(data, "data"); err != nil {
			return e, nil, err
		}
		e.Data = data
	}
	return e, body, nil
}

func (h *Handler) customerEvent(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	ref, err := pathRef(r)
	if err != nil {
		v1Fail(w, err)
		return
	}
	e, _, err := parseV1Event(r)
	e.Person = ref
	h.v1Apply(w, r, ws, &herald.TrackEvent{Event: e}, err)
}

func (h *Handler) anonymousEvent(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	e, body, err := parseV1Event(r)
	if err == nil {
		e.AnonymousID, err = str(body["anonymous_id"], "anonymous_id")
	}
	h.v1Apply(w, r, ws, &herald.TrackEvent{Event: e}, err)
}

func (h *Handler) addDevice(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	ref, err := pathRef(r)
	if err != nil {
		v1Fail(w, err)
		return
	}
	body, err := v1Body(r)
	if err != nil {
		v1Fail(w, err)
		return
	}
	d, err := parseDevice(body["device"], "device", "id")
	h.v1Apply(w, r, ws, &herald.AddDevice{Ref: ref, Device: d}, err)
}

func (h *Handler) deleteDevice(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	ref, err := pathRef(r)
	h.v1Apply(w, r, ws, &herald.DeleteDevice{Ref: ref, Token: r.PathValue("device_id")}, err)
}

// merge answers errors as {"meta":{"error":…}}, the shape Customer.io uses for this endpoint.
func (h *Handler) merge(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	fail := func(err error) {
		writeJSON(w, statusOf(err), map[string]any{"meta": map[string]any{"error": publicMessage(err)}})
	}
	body, err := v1Body(r)
	if err != nil {
		fail(err)
		return
	}
	primary, err := personIdentifiers(body["primary"], "primary", false)
	if err != nil {
		fail(err)
		return
	}
	secondary, err := personIdentifiers(body["secondary"], "secondary", false)
	if err != nil {
		fail(err)
		return
	}
	op := &herald.MergePeople{Primary: primary, Secondary: secondary}
	if err := op.Validate(); err != nil {
		fail(err)
		return
	}
	if err := h.apply(r.Context(), ws.ID, []herald.Op{op})[0]; err != nil {
		fail(err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (h *Handler) region(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	url := h.URL
	if url == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		url = scheme + "://" + r.Host
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": url, "region": h.Region, "environment_id": ws.ID})
}
