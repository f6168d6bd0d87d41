package appapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// Messenger renders and sends messages (the delivery service provides it).
type Messenger interface {
	// Send records and queues one message; on a render failure it returns the failed
	// delivery and the failure.
	Send(ctx context.Context, req herald.SendRequest) (*herald.Delivery, error)
	// Preview renders a message against a real person without sending it.
	Preview(ctx context.Context, req herald.SendRequest) (map[string]any, error)
}

// sendBody is the body of Customer.io's transactional sends (customerio-node's
// SendEmailRequest, SendSMSRequest, SendPushRequest, SendInAppRequest), with Herald's inline
// fields for SMS, push and in-app messages, and the preview's context.
type sendBody struct {
	TransactionalMessageID  json.RawMessage            `json:"transactional_message_id"`
	Identifiers             map[string]json.RawMessage `json:"identifiers"`
	MessageData             json.RawMessage            `json:"message_data"`
	To                      string                     `json:"to"`
	From                    string                     `json:"from"`
	ReplyTo                 string                     `json:"reply_to"`
	Subject                 string                     `json:"subject"`
	Preheader               string                     `json:"preheader"`
	Body                    string                     `json:"body"`
	BodyPlain               string                     `json:"body_plain"`
	Headers                 map[string]string          `json:"headers"`
	SendToUnsubscribed      *bool                      `json:"send_to_unsubscribed"`
	Tracked                 *bool                      `json:"tracked"`
	DisableMessageRetention bool                       `json:"disable_message_retention"`
	SendAt                  int64                      `json:"send_at"`
	Title                   string                     `json:"title"`
	Message                 string                     `json:"message"`
	ImageURL                string                     `json:"image_url"`
	Link                    string                     `json:"link"`
	CustomData              json.RawMessage            `json:"custom_data"`
	CustomDevice            *struct {
		Token    string `json:"token"`
		Platform string `json:"platform"`
	} `json:"custom_device"`
	DisplayType string `json:"display_type"`
	Bcc         string `json:"bcc"`
	Cc          string `json:"cc"`
	Attachments any    `json:"attachments"`
	BodyAMP     string `json:"body_amp"`
	QueueDraft  bool   `json:"queue_draft"`
	// CustomPayload is a push message composed by the caller per platform.
	CustomPayload json.RawMessage `json:"custom_payload"`
	// Preview only: the message's channel and content as a stored message has them, and the
	// event and object to render against.
	Type          herald.Channel       `json:"type"`
	Content       map[string]string    `json:"content"`
	Event         *herald.EventContext `json:"event"`
	TriggerObject *struct {
		ObjectTypeID json.RawMessage `json:"object_type_id"`
		ObjectID     string          `json:"object_id"`
	} `json:"trigger_object"`
}

// request turns a send body into a SendRequest on channel ch.
func (b *sendBody) request(ws int64, ch herald.Channel) (herald.SendRequest, error) {
	req := herald.SendRequest{WorkspaceID: ws, Channel: ch, Transactional: true, CreateMissing: true,
		SendToUnsubscribed: b.SendToUnsubscribed, Tracked: b.Tracked, DisableRetention: b.DisableMessageRetention,
		SendAt: b.SendAt, Event: b.Event}
	switch {
	case b.Bcc != "" || b.Cc != "":
		return req, herald.Errorf(herald.Unsupported, "bcc", "cc and bcc are not supported; send one message per recipient")
	case b.Attachments != nil:
		return req, herald.Errorf(herald.Unsupported, "attachments", "attachments are not supported")
	case b.BodyAMP != "":
		return req, herald.Errorf(herald.Unsupported, "body_amp", "AMP bodies are not supported")
	case b.QueueDraft:
		return req, herald.Errorf(herald.Unsupported, "queue_draft", "drafts are not supported; the message is sent")
	case len(b.CustomPayload) > 0 && string(b.CustomPayload) != "null":
		return req, herald.Errorf(herald.Unsupported, "custom_payload", "custom push payloads are not supported; use title, message, link, image_url and custom_data")
	}
	ref, err := identifiers(b.Identifiers)
	if err != nil {
		return req, err
	}
	req.Person = ref
	if len(b.TransactionalMessageID) > 0 && string(b.TransactionalMessageID) != "null" {
		var s string
		if json.Unmarshal(b.TransactionalMessageID, &s) != nil {
			s = strings.TrimSpace(string(b.TransactionalMessageID))
		}
		if s == "" {
			return req, herald.Errorf(herald.Invalid, "transactional_message_id", "must be a message id or name")
		}
		req.Template = s
	}
	if len(b.MessageData) > 0 && string(b.MessageData) != "null" {
		dec := json.NewDecoder(bytes.NewReader(b.MessageData))
		dec.UseNumber()
		if err := dec.Decode(&req.Data); err != nil || req.Data == nil {
			return req, herald.Errorf(herald.Invalid, "message_data", "must be a JSON object")
		}
	}
	if req.Data == nil {
		req.Data = map[string]any{}
	}
	f := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	switch ch {
	case herald.ChannelEmail:
		set("to", b.To)
		set("from", b.From)
		set("reply_to", b.ReplyTo)
		set("subject", b.Subject)
		set("preheader", b.Preheader)
		set("body", b.Body)
		set("body_plain", b.BodyPlain)
		if len(b.Headers) > 0 {
			req.Headers = b.Headers
		}
	case herald.ChannelSMS:
		set("to", b.To)
		set("from", b.From)
		set("body", b.Body)
	case herald.ChannelPush:
		set("title", b.Title)
		set("body", b.Message)
		set("image", b.ImageURL)
		set("link", b.Link)
		if len(b.CustomData) > 0 && string(b.CustomData) != "null" {
			f["custom_data"] = string(b.CustomData)
		}
		if d := b.CustomDevice; d != nil {
			if d.Token == "" {
				return req, herald.Errorf(herald.Required, "custom_device.token", "is required")
			}
			req.Device = &herald.Device{Token: d.Token, Platform: d.Platform}
		}
	case herald.ChannelInApp:
		set("display_type", b.DisplayType)
		set("title", b.Title)
		set("body", b.Body)
		set("link", b.Link)
	}
	for k, v := range b.Content {
		f[k] = v
	}
	if len(f) > 0 {
		req.Fields = f
	}
	if o := b.TriggerObject; o != nil {
		typeID, err := typeIDValue(o.ObjectTypeID, "trigger_object.object_type_id")
		if err != nil {
			return req, err
		}
		req.TriggerObject = &herald.ObjectRef{TypeID: typeID, ObjectID: o.ObjectID}
		if err := req.TriggerObject.Validate("trigger_object"); err != nil {
			return req, err
		}
	}
	return req, nil
}

// identifiers reads {"id": …} | {"email": …} | {"cio_id": …}: exactly one.
func identifiers(m map[string]json.RawMessage) (herald.PersonRef, error) {
	if len(m) == 0 {
		return herald.PersonRef{}, herald.Errorf(herald.Required, "identifiers", "is required: {\"id\": …}, {\"email\": …} or {\"cio_id\": …}")
	}
	if len(m) > 1 {
		return herald.PersonRef{}, herald.Errorf(herald.Invalid, "identifiers", "give exactly one of id, email and cio_id")
	}
	for k, raw := range m {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			v = strings.TrimSpace(string(raw)) // a numeric id
		}
		ref := herald.PersonRef{Kind: herald.IdentifierKind(k), Value: v}
		if ref.Kind == herald.ByAnonymousID {
			return ref, herald.Errorf(herald.Invalid, "identifiers", "use id, email or cio_id")
		}
		return ref, ref.Validate("identifiers")
	}
	panic("unreachable")
}

// send returns the handler of POST /v1/send/<channel>.
func (h *Handler) send(ch herald.Channel) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
		if h.Messages == nil {
			return herald.Errorf(herald.Unsupported, "", "sending is not enabled on this server")
		}
		var b sendBody
		if err := decode(r, &b); err != nil {
			return err
		}
		req, err := b.request(ws.ID, ch)
		if err != nil {
			return err
		}
		d, err := h.Messages.Send(r.Context(), req)
		if err != nil && d != nil {
			// The delivery is recorded as failed; say why, and which delivery it is.
			e := herald.AsError(err)
			writeJSON(w, http.StatusBadRequest, map[string]any{
				"meta":        map[string]any{"error": e.Error()},
				"errors":      []map[string]string{{"reason": string(e.Code), "field": e.Field, "message": e.Error()}},
				"delivery_id": d.ID,
			})
			return nil
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"delivery_id": d.ID, "queued_at": d.CreatedAt, "status": d.Status})
		return nil
	}
}

// preview renders a message against a real person (and optionally an object and an event)
// and answers with the composed message, or the exact render error.
func (h *Handler) preview(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) error {
	if h.Messages == nil {
		return herald.Errorf(herald.Unsupported, "", "previews are not enabled on this server")
	}
	var b sendBody
	if err := decode(r, &b); err != nil {
		return err
	}
	ch := b.Type
	if ch == "" && len(b.TransactionalMessageID) == 0 {
		ch = herald.ChannelEmail
	}
	req, err := b.request(ws.ID, ch)
	if err != nil {
		return err
	}
	req.CreateMissing, req.Transactional = false, b.SendToUnsubscribed != nil
	out, err := h.Messages.Preview(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// typeIDValue reads an object type id sent as a number or a string ("1").
func typeIDValue(raw json.RawMessage, field string) (int, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = strings.TrimSpace(string(raw))
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, herald.Errorf(herald.Invalid, field, "must be a positive integer, got %s", raw)
	}
	return n, nil
}
