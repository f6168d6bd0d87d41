package delivery

import (
	"context"
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
}

// renderContext builds the Liquid context for one delivery to p: customer.* (with cio_id),
// the trigger object and the relationships it implies, event.*, trigger.* data, related
// objects loaded on first use, snippets and the delivery's URLs.
func (s *Service) renderContext(ctx context.Context, req *herald.SendRequest, rc *recipient, deliveryID string) (*liquid.Context, error) {
	p := rc.person
	customer := liquid.FromAttributes(p.Attributes)
	if customer == nil {
		customer = map[string]any{}
	}
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
		Objects:    s.objectLoader(req.WorkspaceID, p.PK),
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
		c.URLs = liquid.URLs{Unsubscribe: u, ManagePreferences: u}
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
		o, err := s.store.Object(ctx, req.WorkspaceID, *ref)
		if err != nil {
			return nil, herald.WithField(err, "trigger_object")
		}
		t, err := s.store.ObjectType(ctx, req.WorkspaceID, o.TypeID)
		if err != nil {
			return nil, herald.WithField(err, "trigger_object")
		}
		obj := liquid.FromAttributes(o.Attributes)
		if obj == nil {
			obj = map[string]any{}
		}
		obj["object_id"], obj["cio_object_id"] = o.ObjectID, o.CioObjectID
		c.Trigger.ObjectType, c.Trigger.Object = t.SingularSlug, obj
		rel, err := s.store.Relationship(ctx, p.PK, o.PK)
		switch {
		case err == nil:
			c.CustomerRelationship = liquid.FromAttributes(rel)
			c.Trigger.Relationship = c.CustomerRelationship
		case herald.ErrorCode(err) != herald.NotFound:
			return nil, err
		}
		c.Trigger.Customer = maps.Clone(customer)
	}
	return c, nil
}

// objectLoader loads objects.<plural_slug> for person pk: the type by its slug, then the
// related objects, newest relationship first, each with .relationship.
func (s *Service) objectLoader(ws, pk int64) liquid.ObjectLoader {
	return liquid.ObjectLoaderFunc(func(ctx context.Context, slug string, limit int) ([]map[string]any, error) {
		t, err := s.store.ObjectTypeBySlug(ctx, ws, slug, false)
		if herald.ErrorCode(err) == herald.NotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		rows, err := s.store.RelatedObjects(ctx, pk, t.ID, limit)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, len(rows))
		for i, r := range rows {
			m := liquid.FromAttributes(r.Object.Attributes)
			if m == nil {
				m = map[string]any{}
			}
			m["object_id"], m["cio_object_id"] = r.Object.ObjectID, r.Object.CioObjectID
			rel := liquid.FromAttributes(r.Relationship)
			if rel == nil {
				rel = map[string]any{}
			}
			m["relationship"] = rel
			out[i] = m
		}
		return out, nil
	})
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
