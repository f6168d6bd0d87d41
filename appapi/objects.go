package appapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald"
)

// typeJSON is an object type as Customer.io lists it: the id is a string.
type typeJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	SingularName string `json:"singular_name"`
	Slug         string `json:"slug"`
	SingularSlug string `json:"singular_slug"`
	Enabled      bool   `json:"enabled"`
	Icon         string `json:"icon"`
}

func toTypeJSON(t herald.ObjectType) typeJSON {
	return typeJSON{ID: strconv.Itoa(t.ID), Name: t.Name, SingularName: t.SingularName, Slug: t.Slug,
		SingularSlug: t.SingularSlug, Enabled: t.Enabled, Icon: t.Icon}
}

func (h *Handler) listObjectTypes(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	ts, err := h.store.ObjectTypes(r.Context(), ws.ID)
	if err != nil {
		return err
	}
	out := make([]typeJSON, len(ts))
	for i, t := range ts {
		out[i] = toTypeJSON(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"types": out})
	return nil
}

type typeInput struct {
	Name         string `json:"name"`
	SingularName string `json:"singular_name"`
	Icon         string `json:"icon"`
	Enabled      *bool  `json:"enabled"`
}

func (h *Handler) createObjectType(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var in typeInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := h.store.CreateObjectType(r.Context(), ws.ID, herald.ObjectType{Name: in.Name, SingularName: in.SingularName, Icon: in.Icon})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"type": toTypeJSON(*t)})
	return nil
}

func (h *Handler) getObjectType(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathTypeID(r)
	if err != nil {
		return err
	}
	t, err := h.store.ObjectType(r.Context(), ws.ID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": toTypeJSON(*t)})
	return nil
}

func (h *Handler) updateObjectType(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathTypeID(r)
	if err != nil {
		return err
	}
	cur, err := h.store.ObjectType(r.Context(), ws.ID, id)
	if err != nil {
		return err
	}
	var in typeInput
	if err := decode(r, &in); err != nil {
		return err
	}
	next := *cur
	if in.Name != "" {
		next.Name = in.Name
		if in.SingularName == "" {
			next.SingularName = ""
		}
	}
	if in.SingularName != "" {
		next.SingularName = in.SingularName
	}
	if in.Icon != "" {
		next.Icon = in.Icon
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
	}
	t, err := h.store.UpdateObjectType(r.Context(), ws.ID, next)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": toTypeJSON(*t)})
	return nil
}

// objectJSON is an object as the attributes endpoint returns it: values as strings.
func objectJSON(o *herald.Object) map[string]any {
	return map[string]any{
		"object_type_id": strconv.Itoa(o.TypeID),
		"identifiers":    map[string]string{"object_id": o.ObjectID, "cio_object_id": o.CioObjectID},
		"attributes":     o.Attributes.StringMap(),
		"timestamps":     o.Timestamps,
		"created_at":     o.CreatedAt,
		"updated_at":     o.UpdatedAt,
	}
}

func (h *Handler) listObjects(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	id, err := pathTypeID(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	objs, next, err := h.store.FindObjects(r.Context(), ws.ID, id, func(*herald.Object) bool { return true }, p)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(objs))
	for i := range objs {
		out[i] = objectJSON(&objs[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"objects": out, "next": cursor(next)})
	return nil
}

// findObjects is Customer.io's POST /v1/objects: objects of one type matching a filter of
// object_attribute leaves.
func (h *Handler) findObjects(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var in struct {
		ObjectTypeID json.RawMessage `json:"object_type_id"`
		Filter       json.RawMessage `json:"filter"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	typeID, err := herald.Int64Value(in.ObjectTypeID, "object_type_id")
	if err != nil || typeID <= 0 {
		return herald.Errorf(herald.Required, "object_type_id", "is required: a type id such as 1 or \"1\"")
	}
	if len(in.Filter) == 0 {
		return herald.Errorf(herald.Required, "filter", "is required")
	}
	f, err := herald.ParseFilter(in.Filter, "filter", "object_attribute")
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	match := func(o *herald.Object) bool {
		return f.Match(func(c *herald.Condition) bool {
			if c.TypeID != o.TypeID {
				return false
			}
			v, ok := o.Attributes[c.Field]
			return c.Compare(v, ok)
		})
	}
	objs, next, err := h.store.FindObjects(r.Context(), ws.ID, int(typeID), match, p)
	if err != nil {
		return err
	}
	ids := make([]string, len(objs))
	identifiers := make([]map[string]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ObjectID
		identifiers[i] = map[string]string{"object_id": o.ObjectID, "cio_object_id": o.CioObjectID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"identifiers": identifiers, "ids": ids, "next": cursor(next)})
	return nil
}

// objectRef reads /v1/objects/{type_id}/{object_id} with id_type=object_id|cio_object_id.
func objectRef(r *http.Request) (herald.ObjectRef, error) {
	typeID, err := pathTypeID(r)
	if err != nil {
		return herald.ObjectRef{}, err
	}
	id := r.PathValue("object_id")
	switch r.URL.Query().Get("id_type") {
	case "", "object_id":
		return herald.ObjectRef{TypeID: typeID, ObjectID: id}, nil
	case "cio_object_id":
		return herald.ObjectRef{TypeID: typeID, CioObjectID: id}, nil
	default:
		return herald.ObjectRef{}, herald.Errorf(herald.Invalid, "id_type", "must be object_id or cio_object_id")
	}
}

func (h *Handler) objectAttributes(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	ref, err := objectRef(r)
	if err != nil {
		return err
	}
	o, err := h.store.Object(r.Context(), ws.ID, ref)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": objectJSON(o)})
	return nil
}

func (h *Handler) objectRelationships(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	ref, err := objectRef(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	o, err := h.store.Object(r.Context(), ws.ID, ref)
	if err != nil {
		return err
	}
	rels, next, err := h.store.ObjectPeople(r.Context(), o.PK, p)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(rels))
	for i, rel := range rels {
		out[i] = map[string]any{
			"identifiers":          rel.Person,
			"object_type_id":       strconv.Itoa(rel.Object.TypeID),
			"object_type_disabled": false,
			"attributes":           rel.Attributes.StringMap(),
			"timestamps":           rel.Timestamps,
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cio_relationships": out, "next": cursor(next)})
	return nil
}
