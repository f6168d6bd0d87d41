package liquid

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/heraldhq/herald"
)

// Context is what one message is rendered against, laid out as Customer.io lays it out. Maps
// hold Go values decoded from JSON (map[string]any, []any, float64 or json.Number, string,
// bool, nil); FromAttributes converts herald.Attributes. A nil map or pointer leaves its
// namespace out, and a template that names an absent namespace renders it empty, as
// Customer.io does for namespaces a campaign type lacks; a missing key inside a present
// namespace fails the render.
//
// Use one *Context per recipient and message: objects loaded for one field are reused by the
// others. A Context may be shared by concurrent renders.
type Context struct {
	// Customer is customer.*: the recipient's attributes, including id, email and cio_id.
	Customer map[string]any
	// CustomerRelationship is customer._relationship.*: the recipient's relationship to the
	// object that triggered the campaign.
	CustomerRelationship map[string]any
	// Event is event.* and event_name, event_id, event_timestamp, for event-triggered sends.
	Event *Event
	// Trigger is trigger.*, for object-, relationship- and API-triggered sends.
	Trigger *Trigger
	// Objects loads objects.<plural_slug>; nil makes every objects.<slug> an empty list.
	Objects ObjectLoader
	// Journey, Campaign and Message are journey.*, campaign.* and message.*.
	Journey, Campaign, Message map[string]any
	// DeliveryID is delivery_id.
	DeliveryID string
	// Snippets are snippets.<name>: workspace Liquid fragments, rendered against this Context
	// where they are used.
	Snippets map[string]string
	// URLs are what the URL tags render.
	URLs URLs

	mu     sync.Mutex
	loaded map[string][]map[string]any
}

// Event is the event that triggered the send.
type Event struct {
	Name      string         // event_name
	ID        string         // event_id
	Timestamp int64          // event_timestamp, unix seconds
	Data      map[string]any // event.<prop>
}

// Trigger is what fired an object-, relationship- or API-triggered send.
type Trigger struct {
	// ObjectType is the singular slug of the triggering object's type ("appointment"), under
	// which Object appears: trigger.appointment.*. A type whose slug is "customer" or
	// "relationship" appears as trigger._customer or trigger._relationship, as in Customer.io.
	// Empty for API-triggered sends.
	ObjectType string
	// Object holds the triggering object's attributes, including object_id.
	Object map[string]any
	// Relationship is trigger.relationship.*: the triggering relationship's attributes.
	Relationship map[string]any
	// Customer is trigger.customer.*: the person whose relationship fired (relationship
	// triggers), who may differ from the recipient.
	Customer map[string]any
	// Data is trigger.<key>: the payload of an API-triggered broadcast or transactional send.
	Data map[string]any
}

// URLs are the per-delivery links Customer.io's tags render.
type URLs struct {
	Unsubscribe       string // {% unsubscribe_url %}
	ManagePreferences string // {% manage_subscription_preferences_url %}
	ViewInBrowser     string // {% view_in_browser_url %}
}

// ObjectLoader loads the recipient's related objects of one type. The engine calls it only
// for the types a template references, at most once per type and Context.
type ObjectLoader interface {
	// Related returns up to limit objects of the type whose plural slug is given, newest
	// relationship first. Each map holds the object's attributes (including object_id) and,
	// under "relationship", the relationship's attributes. The engine asks for one more than
	// its maximum so that it can tell "exactly the maximum" from "more".
	Related(ctx context.Context, pluralSlug string, limit int) ([]map[string]any, error)
}

// ObjectLoaderFunc adapts a function to ObjectLoader.
type ObjectLoaderFunc func(ctx context.Context, pluralSlug string, limit int) ([]map[string]any, error)

// Related calls f.
func (f ObjectLoaderFunc) Related(ctx context.Context, pluralSlug string, limit int) ([]map[string]any, error) {
	return f(ctx, pluralSlug, limit)
}

// FromAttributes decodes herald.Attributes into the Go values a Context holds. Integers stay
// exact (json.Number); a value that is not valid JSON is kept as its text.
func FromAttributes(a herald.Attributes) map[string]any {
	if a == nil {
		return nil
	}
	m := make(map[string]any, len(a))
	for k, raw := range a {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			v = string(raw)
		}
		m[k] = v
	}
	return m
}

// related returns the objects of a type, loading them on first use.
func (c *Context) related(ctx context.Context, slug string, max int) ([]map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if objs, ok := c.loaded[slug]; ok {
		return objs, nil
	}
	var objs []map[string]any
	if c.Objects != nil {
		var err error
		if objs, err = c.Objects.Related(ctx, slug, max+1); err != nil {
			return nil, err
		}
	}
	if c.loaded == nil {
		c.loaded = map[string][]map[string]any{}
	}
	c.loaded[slug] = objs
	return objs, nil
}
