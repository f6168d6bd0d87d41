package herald

import (
	"sort"
	"strings"
)

// Template is a stored message: its channel and its Liquid content fields. Transactional
// sends address it by ID or by Name (Customer.io's transactional_message_id is either).
type Template struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Channel     Channel           `json:"type"`
	Fields      map[string]string `json:"content"`
	// SendToUnsubscribed lets this transactional message reach people who unsubscribed
	// (receipts, password resets); a request's send_to_unsubscribed overrides it.
	SendToUnsubscribed bool  `json:"send_to_unsubscribed"`
	Tracked            bool  `json:"tracked"` // open and click tracking for email
	CreatedAt          int64 `json:"created_at"`
	UpdatedAt          int64 `json:"updated_at"`
}

// MessageFields are the Liquid fields each channel's message has. An email's layout is HTML
// around its body: {{ content }} in the layout marks where the body goes.
var MessageFields = map[Channel][]string{
	ChannelEmail:   {"from", "reply_to", "to", "subject", "preheader", "body", "body_plain", "headers", "layout"},
	ChannelSMS:     {"from", "to", "body"},
	ChannelPush:    {"title", "body", "link", "image", "custom_data"},
	ChannelInApp:   {"display_type", "title", "body", "link"},
	ChannelWebhook: {"method", "url", "headers", "body"},
}

// ValidateMessage checks a channel and its content fields: the channel must be known and every
// field one of its MessageFields.
func ValidateMessage(ch Channel, fields map[string]string, field string) error {
	known, ok := MessageFields[ch]
	if !ok {
		return Errorf(Invalid, joinField(field, "type"), "%q is not a channel; use email, sms, push, in_app or webhook", ch)
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		found := false
		for _, f := range known {
			found = found || f == k
		}
		if !found {
			return Errorf(Invalid, joinField(field, k), "is not a field of %s messages (%s)", ch, strings.Join(known, ", "))
		}
	}
	return nil
}

// ValidateTemplate checks a template's name, channel and fields.
func ValidateTemplate(t *Template) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return Errorf(Required, "name", "is required")
	}
	if len(t.Name) > MaxAttrNameBytes {
		return Errorf(TooLong, "name", "is over %d bytes", MaxAttrNameBytes)
	}
	if t.Channel == "" {
		t.Channel = ChannelEmail
	}
	return ValidateMessage(t.Channel, t.Fields, "content")
}

// Snippet is a workspace-level Liquid fragment, used in templates as {{ snippets.<name> }}.
type Snippet struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	UpdatedAt int64  `json:"updated_at"`
}

// ValidateSnippet checks a snippet's name: a Liquid identifier.
func ValidateSnippet(s *Snippet) error {
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		return Errorf(Required, "name", "is required")
	}
	for i, r := range s.Name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '-')) {
			return Errorf(Invalid, "name", "%q is not a Liquid name (letters, digits, _ and -, starting with a letter)", s.Name)
		}
	}
	if len(s.Name) > MaxAttrNameBytes {
		return Errorf(TooLong, "name", "is over %d bytes", MaxAttrNameBytes)
	}
	if len(s.Value) > MaxEventDataBytes {
		return Errorf(TooLong, "value", "is over %d bytes", MaxEventDataBytes)
	}
	return nil
}

// InboxMessage is an in-app message waiting in (or read from) a person's inbox.
type InboxMessage struct {
	DeliveryID  string `json:"delivery_id"`
	DisplayType string `json:"display_type"` // modal, overlay, inline, banner
	Title       string `json:"title,omitempty"`
	Body        string `json:"body"` // HTML
	Link        string `json:"link,omitempty"`
	State       string `json:"state"` // queued, opened, clicked, dismissed
	CreatedAt   int64  `json:"created_at"`
}
