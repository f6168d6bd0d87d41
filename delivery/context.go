package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/liquid"
)

// recipient is everything a request resolves to before rendering.
type recipient struct {
	person   *herald.Person
	template *herald.Template
	fields   map[string]string
	ws       *workspaceCache
	objects  *objectMemo // a batch's trigger objects, read once for all its recipients
}

// objectMemo keeps the trigger objects (with their types) one SendMany has read: a journey
// step's batch usually shares one trigger object.
type objectMemo struct {
	objects map[herald.ObjectRef]*herald.Object
	types   map[int]*herald.ObjectType
}

func (s *Service) triggerObject(ctx context.Context, ws int64, ref herald.ObjectRef, m *objectMemo) (*herald.Object, *herald.ObjectType, error) {
	if m != nil {
		if o, ok := m.objects[ref]; ok {
			return o, m.types[o.TypeID], nil
		}
	}
	o, err := s.store.Object(ctx, ws, ref)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.store.ObjectType(ctx, ws, o.TypeID)
	if err != nil {
		return nil, nil, err
	}
	if m != nil {
		m.objects[ref], m.types[o.TypeID] = o, t
	}
	return o, t, nil
}

// renderContext builds the Liquid context for one delivery to p: customer.* (with cio_id),
// the trigger object and the relationships it implies, event.*, trigger.* data, related
// objects loaded on first use, snippets and the delivery's URLs.
func (s *Service) renderContext(ctx context.Context, req *herald.SendRequest, rc *recipient, deliveryID string) (*liquid.Context, error) {
	p := rc.person
	customer := values(p.Attributes)
	customer["cio_id"] = p.CioID
	if p.ID != "" {
		customer["id"] = p.ID
	}
	if p.Email != "" {
		customer["email"] = p.Email
	}
	c := &liquid.Context{
		Customer:   customer,
		DeliveryID: deliveryID,
		Snippets:   rc.ws.snippets,
		Journey:    req.Journey,
		Campaign:   req.Campaign,
		Objects:    s.objectLoader(req.WorkspaceID, p.PK, rc.ws),
	}
	msg := map[string]any{"id": deliveryID, "type": string(req.Channel)}
	if rc.template != nil {
		msg["id"], msg["name"] = rc.template.ID, rc.template.Name
	}
	c.Message = msg
	if req.Transactional && c.Campaign == nil {
		c.Campaign = map[string]any{"type": "transactional_message"}
	}
	if s.cfg.PublicURL != "" && deliveryID != "" {
		u := s.unsubscribeURL(deliveryID)
		c.URLs = liquid.URLs{Unsubscribe: u, ManagePreferences: u, ViewInBrowser: trimSlash(s.cfg.PublicURL) + "/t/v/" + deliveryID}
	}
	if e := req.Event; e != nil {
		c.Event = &liquid.Event{Name: e.Name, ID: e.ID, Timestamp: e.Timestamp, Data: e.Data}
		if c.Event.Data == nil {
			c.Event.Data = map[string]any{}
		}
	}
	if req.Data != nil || req.TriggerObject != nil {
		c.Trigger = &liquid.Trigger{Data: req.Data}
	}
	if ref := req.TriggerObject; ref != nil {
		o, t, err := s.triggerObject(ctx, req.WorkspaceID, *ref, rc.objects)
		if err != nil {
			return nil, herald.WithField(err, "trigger_object")
		}
		obj := values(o.Attributes)
		obj["object_id"], obj["cio_object_id"] = o.ObjectID, o.CioObjectID
		c.Trigger.ObjectType, c.Trigger.Object = t.SingularSlug, obj
		rel, err := s.store.Relationship(ctx, p.PK, o.PK)
		switch {
		case err == nil:
			c.CustomerRelationship = values(rel)
			c.Trigger.Relationship = c.CustomerRelationship
		case herald.ErrorCode(err) != herald.NotFound:
			return nil, err
		}
		c.Trigger.Customer = maps.Clone(customer)
		if tp := req.TriggerPerson; tp != nil && !tp.IsZero() {
			// Another person's relationship fired (a patient booked; the doctor is told):
			// trigger.customer and trigger.relationship are theirs.
			who, err := s.store.Person(ctx, req.WorkspaceID, *tp)
			if err != nil {
				return nil, herald.WithField(err, "trigger_person")
			}
			if who.PK != p.PK {
				tc := values(who.Attributes)
				tc["cio_id"] = who.CioID
				if who.ID != "" {
					tc["id"] = who.ID
				}
				if who.Email != "" {
					tc["email"] = who.Email
				}
				c.Trigger.Customer, c.Trigger.Relationship = tc, nil
				switch rel, err := s.store.Relationship(ctx, who.PK, o.PK); {
				case err == nil:
					c.Trigger.Relationship = values(rel)
				case herald.ErrorCode(err) != herald.NotFound:
					return nil, err
				}
			}
		}
	}
	return c, nil
}

// objectLoader loads objects.<plural_slug> for person pk: the type by its slug, then the
// related objects, newest relationship first, each with .relationship.
func (s *Service) objectLoader(ws, pk int64, wc *workspaceCache) liquid.ObjectLoader {
	return liquid.ObjectLoaderFunc(func(ctx context.Context, slug string, limit int) ([]map[string]any, error) {
		var t *herald.ObjectType
		if v, ok := wc.types.Load(slug); ok {
			t = v.(*herald.ObjectType)
		} else {
			var err error
			t, err = s.store.ObjectTypeBySlug(ctx, ws, slug, false)
			if err != nil && herald.ErrorCode(err) != herald.NotFound {
				return nil, err
			}
			wc.types.Store(slug, t) // nil: no such type, for the cache's lifetime
		}
		if t == nil {
			return nil, nil
		}
		rows, err := s.store.RelatedObjects(ctx, pk, t.ID, limit)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(rows))
		for i, r := range rows {
			m := rawValues(r.Attributes)
			m["object_id"], m["cio_object_id"] = r.ObjectID, r.CioObjectID
			m["relationship"] = rawValues(r.Relationship)
			out[i] = m
		}
		return out, nil
	})
}

// values decodes attributes into the Go values a liquid.Context holds, as liquid.FromAttributes
// does (integers stay exact), in one pass over the whole object rather than one decoder per
// attribute: templates read many objects per message.
func values(a herald.Attributes) map[string]any {
	m := map[string]any{}
	if len(a) == 0 {
		return m
	}
	b, err := json.Marshal(a)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if dec.Decode(&m) == nil {
			return m
		}
	}
	return liquid.FromAttributes(a) // a value that is not JSON is kept as its text
}

// rawValues decodes a stored JSON object of attributes as values does.
func rawValues(raw []byte) map[string]any {
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if len(raw) == 0 || dec.Decode(&m) != nil {
		return map[string]any{}
	}
	return m
}

// unsubscribeURL is the delivery's unsubscribe page; the unguessable delivery id is its key.
func (s *Service) unsubscribeURL(id string) string {
	return trimSlash(s.cfg.PublicURL) + "/unsubscribe/" + id
}

func trimSlash(u string) string {
	for len(u) > 0 && u[len(u)-1] == '/' {
		u = u[:len(u)-1]
	}
	return u
}
