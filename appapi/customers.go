package appapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald"
)

// customerRef reads /v1/customers/{customer_id} with id_type=id|email|cio_id.
func customerRef(r *http.Request) (herald.PersonRef, error) {
	v := r.PathValue("customer_id")
	kind := r.URL.Query().Get("id_type")
	switch kind {
	case "":
		kind = "id"
	case "id", "email", "cio_id":
	default:
		return herald.PersonRef{}, herald.Errorf(herald.Invalid, "id_type", "must be id, email or cio_id, got %q", kind)
	}
	return herald.PersonRef{Kind: herald.IdentifierKind(kind), Value: v}, nil
}

func (h *Handler) person(r *http.Request, ws *herald.Workspace) (*herald.Person, error) {
	ref, err := customerRef(r)
	if err != nil {
		return nil, err
	}
	return h.store.Person(r.Context(), ws.ID, ref)
}

func (h *Handler) customersByEmail(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	email := r.URL.Query().Get("email")
	if email == "" {
		return herald.Errorf(herald.Required, "email", "is required")
	}
	results := []herald.Identifiers{}
	p, err := h.store.Person(r.Context(), ws.ID, herald.PersonRef{Kind: herald.ByEmail, Value: email})
	switch {
	case err == nil:
		results = append(results, p.Identifiers())
	case herald.ErrorCode(err) != herald.NotFound:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}

func (h *Handler) customerAttributes(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	p, err := h.person(r, ws)
	if err != nil {
		return err
	}
	devices, err := h.store.Devices(r.Context(), p.PK)
	if err != nil {
		return err
	}
	attrs := p.Attributes.StringMap()
	attrs["cio_id"] = p.CioID
	attrs["_created_in_customerio_at"] = strconv.FormatInt(p.CreatedAt, 10)
	unsubscribed := attrs["unsubscribed"] == "true"
	writeJSON(w, http.StatusOK, map[string]any{"customer": map[string]any{
		"id":           p.ID,
		"identifiers":  p.Identifiers(),
		"attributes":   attrs,
		"timestamps":   p.Timestamps,
		"unsubscribed": unsubscribed,
		"devices":      devices,
	}})
	return nil
}

func (h *Handler) customerRelationships(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	p, err := h.person(r, ws)
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	rels, next, err := h.store.PersonObjects(r.Context(), p.PK, pg)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(rels))
	for i, rel := range rels {
		typeID := strconv.Itoa(rel.Object.TypeID)
		out[i] = map[string]any{
			"identifiers":          map[string]string{"object_type_id": typeID, "object_id": rel.Object.ObjectID, "cio_object_id": rel.Object.CioObjectID},
			"object_type_id":       typeID,
			"object_id":            rel.Object.ObjectID,
			"cio_object_id":        rel.Object.CioObjectID,
			"object_type_disabled": false,
			"attributes":           rel.Attributes.StringMap(),
			"timestamps":           rel.Timestamps,
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cio_relationships": out, "next": cursor(next)})
	return nil
}

// searchCustomers is Customer.io's POST /v1/customers: people matching a filter of attribute
// leaves.
func (h *Handler) searchCustomers(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var in struct {
		Filter json.RawMessage `json:"filter"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Filter) == 0 {
		return herald.Errorf(herald.Required, "filter", "is required")
	}
	f, err := herald.ParseFilter(in.Filter, "filter", "attribute")
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	match := func(p *herald.Person) bool {
		return f.Match(func(c *herald.Condition) bool {
			v, ok := p.Attributes[c.Field]
			if c.Field == "cio_id" {
				v, ok = herald.JSONString(p.CioID), true
			}
			return c.Compare(v, ok)
		})
	}
	people, next, err := h.store.FindPeople(r.Context(), ws.ID, match, pg)
	if err != nil {
		return err
	}
	ids := make([]string, len(people))
	identifiers := make([]herald.Identifiers, len(people))
	for i, p := range people {
		ids[i] = p.ID
		identifiers[i] = p.Identifiers()
	}
	writeJSON(w, http.StatusOK, map[string]any{"identifiers": identifiers, "ids": ids, "next": cursor(next)})
	return nil
}

// activityJSON is one activity in Customer.io's shape, plus the object it concerns.
func activityJSON(c herald.Change, objectScoped bool) map[string]any {
	typ := c.Type
	if objectScoped {
		typ = c.ObjectScoped()
	}
	a := map[string]any{
		"id":        strconv.FormatInt(c.Seq, 10),
		"type":      typ,
		"timestamp": c.Timestamp,
		"data":      json.RawMessage("{}"),
	}
	if len(c.Data) > 0 {
		a["data"] = c.Data
	}
	if c.Customer != nil {
		a["customer_id"] = c.Customer.ID
		a["customer_identifiers"] = c.Customer
	}
	if c.Name != "" {
		a["name"] = c.Name
	}
	if c.Object != nil {
		a["object_type_id"] = strconv.Itoa(c.Object.TypeID)
		a["object_id"] = c.Object.ObjectID
		a["cio_object_id"] = c.Object.CioObjectID
	}
	return a
}

func (h *Handler) writeActivities(w http.ResponseWriter, r *http.Request, ws *herald.Workspace, f herald.ActivityFilter) error {
	f.Type, f.Name = r.URL.Query().Get("type"), r.URL.Query().Get("name")
	pg, err := page(r)
	if err != nil {
		return err
	}
	cs, next, err := h.store.Activities(r.Context(), ws.ID, f, pg)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(cs))
	_, _, typedObject := herald.RelationshipTypeFilter(f.Type)
	for i, c := range cs {
		out[i] = activityJSON(c, f.Object != nil || typedObject)
	}
	writeJSON(w, http.StatusOK, map[string]any{"activities": out, "next": cursor(next)})
	return nil
}

func (h *Handler) customerActivities(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	p, err := h.person(r, ws)
	if err != nil {
		return err
	}
	return h.writeActivities(w, r, ws, herald.ActivityFilter{PersonPK: p.PK})
}

// activities lists the workspace's activity log, optionally for one customer
// (customer_id, id_type) or one object (object_type_id, object_id).
func (h *Handler) activities(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	q := r.URL.Query()
	var f herald.ActivityFilter
	if id := q.Get("customer_id"); id != "" {
		kind := q.Get("id_type")
		if kind == "" {
			kind = "id"
		}
		ref := herald.PersonRef{Kind: herald.IdentifierKind(kind), Value: id}
		if err := ref.Validate("customer_id"); err != nil {
			return err
		}
		p, err := h.store.Person(r.Context(), ws.ID, ref)
		if err != nil {
			return err
		}
		f.PersonPK = p.PK
	}
	if t := q.Get("object_type_id"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			return herald.Errorf(herald.Invalid, "object_type_id", "must be a positive integer")
		}
		if q.Get("object_id") == "" {
			return herald.Errorf(herald.Required, "object_id", "is required with object_type_id")
		}
		f.Object = &herald.ObjectIdentity{TypeID: n, ObjectID: q.Get("object_id")}
	}
	return h.writeActivities(w, r, ws, f)
}
