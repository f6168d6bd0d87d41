package appapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald"
)

// MessageStore is what the message, template, snippet and settings endpoints need of storage.
type MessageStore interface {
	Delivery(ctx context.Context, ws int64, id string) (*herald.Delivery, error)
	DeliveryHistory(ctx context.Context, id string) ([]herald.DeliveryEvent, error)
	PersonDeliveries(ctx context.Context, ws, pk int64, page herald.Page) ([]*herald.Delivery, int64, error)
	Template(ctx context.Context, ws int64, ref string) (*herald.Template, error)
	Templates(ctx context.Context, ws int64) ([]*herald.Template, error)
	SaveTemplate(ctx context.Context, ws int64, t herald.Template) (*herald.Template, error)
	DeleteTemplate(ctx context.Context, ws, id int64) error
	Snippets(ctx context.Context, ws int64) ([]herald.Snippet, error)
	PutSnippet(ctx context.Context, ws int64, sn herald.Snippet) (*herald.Snippet, error)
	DeleteSnippet(ctx context.Context, ws int64, name string) error
	ChannelSettings(ctx context.Context, ws int64) (map[herald.Channel]json.RawMessage, error)
	PutChannelSettings(ctx context.Context, ws int64, ch herald.Channel, settings json.RawMessage) error
}

// messageJSON is a delivery as Customer.io's App API shows a message.
func messageJSON(d *herald.Delivery, history []herald.DeliveryEvent) map[string]any {
	metrics := map[string]int64{}
	for _, e := range history {
		if _, seen := metrics[e.Metric]; !seen {
			metrics[e.Metric] = e.Timestamp
		}
	}
	out := map[string]any{
		"id": d.ID, "type": d.Channel, "customer_identifiers": d.Customer, "customer_id": d.Customer.ID,
		"recipient": d.Recipient, "subject": d.Subject, "created": d.CreatedAt, "updated": d.UpdatedAt,
		"metrics": metrics, "status": d.Status, "failure_message": d.Reason, "campaign_id": nilZero(d.CampaignID),
		"action_id": nilZero(d.ActionID), "transactional_message_id": nilZero(d.TemplateID), "attempts": d.Attempts,
	}
	if history != nil {
		out["history"] = history
	}
	if len(d.Content) > 0 {
		out["content"] = d.Content
	}
	return out
}

func nilZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// customerMessages lists the deliveries to one person, newest first (customerio-node's
// getCustomerMessages).
func (h *Handler) customerMessages(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	p, err := h.person(r, ws)
	if err != nil {
		return err
	}
	pg, err := page(r)
	if err != nil {
		return err
	}
	ds, next, err := h.store.PersonDeliveries(r.Context(), ws.ID, p.PK, pg)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(ds))
	for i, d := range ds {
		hist, err := h.store.DeliveryHistory(r.Context(), d.ID)
		if err != nil {
			return err
		}
		out[i] = messageJSON(d, hist)
		delete(out[i], "content")
		delete(out[i], "history")
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out, "next": cursor(next)})
	return nil
}

// getMessage shows one delivery with its history and retained content.
func (h *Handler) getMessage(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	d, err := h.store.Delivery(r.Context(), ws.ID, r.PathValue("message_id"))
	if err != nil {
		return err
	}
	hist, err := h.store.DeliveryHistory(r.Context(), d.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": messageJSON(d, hist)})
	return nil
}

// templateInput is a stored message as the App API takes it.
type templateInput struct {
	Name               string            `json:"name"`
	Description        string            `json:"description"`
	Type               herald.Channel    `json:"type"`
	Content            map[string]string `json:"content"`
	SendToUnsubscribed *bool             `json:"send_to_unsubscribed"`
	Tracked            *bool             `json:"tracked"`
}

func (in templateInput) template(id int64) herald.Template {
	t := herald.Template{ID: id, Name: in.Name, Description: in.Description, Channel: in.Type, Fields: in.Content,
		SendToUnsubscribed: true, Tracked: true}
	if in.SendToUnsubscribed != nil {
		t.SendToUnsubscribed = *in.SendToUnsubscribed
	}
	if in.Tracked != nil {
		t.Tracked = *in.Tracked
	}
	return t
}

func (h *Handler) listTemplates(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	ts, err := h.store.Templates(r.Context(), ws.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ts})
	return nil
}

func (h *Handler) getTemplate(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	t, err := h.store.Template(r.Context(), ws.ID, r.PathValue("message_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": t})
	return nil
}

// saveTemplate validates the Liquid of every field before storing, so that a syntax error
// shows when the template is saved, not when it is sent.
func (h *Handler) saveTemplate(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var in templateInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var id int64
	status := http.StatusCreated
	if s := r.PathValue("message_id"); s != "" {
		t, err := h.store.Template(r.Context(), ws.ID, s)
		if err != nil {
			return err
		}
		id, status = t.ID, http.StatusOK
	}
	if h.Templates != nil {
		for name, src := range in.Content {
			if err := h.Templates.Parse(src); err != nil {
				return herald.WithField(err, "content."+name)
			}
		}
	}
	t, err := h.store.SaveTemplate(r.Context(), ws.ID, in.template(id))
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"message": t})
	return nil
}

func (h *Handler) deleteTemplate(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	t, err := h.store.Template(r.Context(), ws.ID, r.PathValue("message_id"))
	if err != nil {
		return err
	}
	if err := h.store.DeleteTemplate(r.Context(), ws.ID, t.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listSnippets(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	sn, err := h.store.Snippets(r.Context(), ws.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"snippets": sn})
	return nil
}

// putSnippet creates or replaces a snippet: {"name", "value"}, as customerio-node's
// createSnippet and updateSnippet send it.
func (h *Handler) putSnippet(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var in herald.Snippet
	if err := decode(r, &in); err != nil {
		return err
	}
	if h.Templates != nil {
		if err := h.Templates.Parse(in.Value); err != nil {
			return herald.WithField(err, "value")
		}
	}
	sn, err := h.store.PutSnippet(r.Context(), ws.ID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"snippet": sn})
	return nil
}

func (h *Handler) deleteSnippet(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	if err := h.store.DeleteSnippet(r.Context(), ws.ID, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// channelSettings shows the workspace's channel settings with their credentials masked.
func (h *Handler) channelSettings(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	s, err := h.store.ChannelSettings(r.Context(), ws.ID)
	if err != nil {
		return err
	}
	out := map[herald.Channel]any{}
	for ch, raw := range s {
		out[ch] = maskSettings(raw)
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": out})
	return nil
}

// secretSettings are the settings keys that hold credentials.
var secretSettings = map[string]bool{"auth_token": true, "access_token": true, "secret": true, "password": true}

// maskSettings hides credentials: secret keys' values and the password of a URL.
func maskSettings(raw json.RawMessage) any {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	for k, v := range m {
		str, ok := v.(string)
		switch {
		case !ok || str == "":
		case secretSettings[k]:
			m[k] = "********"
		case strings.Contains(k, "url"):
			if u, err := url.Parse(str); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					u.User = url.UserPassword(u.User.Username(), "********")
					m[k] = u.String()
				}
			}
		}
	}
	return m
}

func (h *Handler) putChannelSettings(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	var raw json.RawMessage
	if err := decode(r, &raw); err != nil {
		return err
	}
	ch := herald.Channel(r.PathValue("channel"))
	if err := h.store.PutChannelSettings(r.Context(), ws.ID, ch, raw); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"channel": ch, "settings": raw})
	return nil
}

// inboxToken mints the token a person's browser reads their in-app inbox with; a backend can
// also compute it itself (see herald.InboxToken).
func (h *Handler) inboxToken(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	p, err := h.person(r, ws)
	if err != nil {
		return err
	}
	ident := p.ID
	if ident == "" {
		ident = "cio_" + p.CioID
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": herald.InboxToken(ws, ident), "identifier": ident})
	return nil
}
