package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/heraldhq/herald"
)

// contentTag is where a layout takes the email's body.
var contentTag = regexp.MustCompile(`\{\{-?\s*content\s*-?\}\}`)

// composed is a rendered message ready for its channel.
type composed struct {
	fields    map[string]string // the rendered Liquid fields
	content   any               // *herald.Email, *herald.SMS, *herald.Push, *herald.Webhook or *herald.InboxMessage
	recipient string            // the address, number or device count it goes to
	subject   string
}

// render renders rc's fields against the context of delivery id and composes the channel's
// message. A failure names the field (and, for a missing variable, the variable).
func (s *Service) render(ctx context.Context, req *herald.SendRequest, rc *recipient, id string) (*composed, error) {
	lc, err := s.renderContext(ctx, req, rc, id)
	if err != nil {
		return nil, err
	}
	fields := rc.fields
	if layout := fields["layout"]; layout != "" {
		if !contentTag.MatchString(layout) {
			return nil, herald.Errorf(herald.Invalid, "layout", "has no {{ content }} to put the body in")
		}
		fields = maps.Clone(fields)
		body := fields["body"]
		fields["body"] = contentTag.ReplaceAllLiteralString(layout, body)
		delete(fields, "layout")
	}
	out, err := s.engine.RenderFields(ctx, fields, lc)
	if err != nil {
		return nil, err
	}
	m := &composed{fields: out}
	switch req.Channel {
	case herald.ChannelEmail:
		err = s.composeEmail(req, rc, id, out, m)
	case herald.ChannelSMS:
		err = s.composeSMS(rc, id, out, m)
	case herald.ChannelPush:
		err = s.composePush(ctx, req, rc, id, out, m)
	case herald.ChannelInApp:
		m.content = &herald.InboxMessage{DeliveryID: id, DisplayType: orDefault(out["display_type"], "modal"),
			Title: out["title"], Body: out["body"], Link: out["link"]}
		m.recipient, m.subject = rc.person.CioID, out["title"]
		if out["body"] == "" && out["title"] == "" {
			err = herald.Errorf(herald.Required, "body", "an in-app message needs a title or a body")
		}
	case herald.ChannelWebhook:
		err = composeWebhook(id, out, m)
	default:
		err = herald.Errorf(herald.Invalid, "type", "%q is not a channel", req.Channel)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) composeEmail(req *herald.SendRequest, rc *recipient, id string, f map[string]string, m *composed) error {
	e := &herald.Email{DeliveryID: id, From: f["from"], ReplyTo: f["reply_to"], To: f["to"], Subject: f["subject"],
		Preheader: f["preheader"], HTML: f["body"], Text: f["body_plain"]}
	if e.To == "" {
		e.To = rc.person.Email
	}
	if e.To == "" {
		return herald.Errorf(herald.Required, "to", "the person has no email address and the message names none")
	}
	if e.From == "" {
		e.From = rc.ws.setting(herald.ChannelEmail, "from")
	}
	if e.ReplyTo == "" {
		e.ReplyTo = rc.ws.setting(herald.ChannelEmail, "reply_to")
	}
	if e.HTML == "" && e.Text == "" {
		return herald.Errorf(herald.Required, "body", "an email needs a body")
	}
	headers, err := jsonStrings(f["headers"], "headers")
	if err != nil {
		return err
	}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, headerField); ok {
			if headers == nil {
				headers = map[string]string{}
			}
			headers[name] = v
		}
	}
	e.Headers = headers
	tracked := rc.template == nil || rc.template.Tracked
	if req.Tracked != nil {
		tracked = *req.Tracked
	}
	e.Untracked = !tracked
	if strings.HasPrefix(s.cfg.PublicURL, "https://") { // RFC 8058 one-click needs https
		e.UnsubscribeURL = s.unsubscribeURL(id)
	}
	m.content, m.recipient, m.subject = e, e.To, e.Subject
	return nil
}

func (s *Service) composeSMS(rc *recipient, id string, f map[string]string, m *composed) error {
	sms := &herald.SMS{DeliveryID: id, To: f["to"], From: f["from"], Body: f["body"]}
	if sms.To == "" {
		var phone string
		if json.Unmarshal(rc.person.Attributes["phone"], &phone) == nil {
			sms.To = phone
		}
	}
	if sms.To == "" {
		return herald.Errorf(herald.Required, "to", "the person has no phone attribute and the message names no number")
	}
	if sms.From == "" {
		sms.From = rc.ws.setting(herald.ChannelSMS, "from")
	}
	if sms.Body == "" {
		return herald.Errorf(herald.Required, "body", "an SMS needs a body")
	}
	m.content, m.recipient = sms, sms.To
	return nil
}

func (s *Service) composePush(ctx context.Context, req *herald.SendRequest, rc *recipient, id string, f map[string]string, m *composed) error {
	p := &herald.Push{DeliveryID: id, Title: f["title"], Body: f["body"], Link: f["link"], Image: f["image"]}
	data, err := jsonStrings(f["custom_data"], "custom_data")
	if err != nil {
		return err
	}
	p.Data = data
	if req.Device != nil {
		p.Tokens = []string{req.Device.Token}
	} else {
		devices, err := s.store.Devices(ctx, rc.person.PK)
		if err != nil {
			return err
		}
		for _, d := range devices {
			p.Tokens = append(p.Tokens, d.Token)
		}
	}
	if len(p.Tokens) == 0 {
		return herald.Errorf(herald.Required, "devices", "the person has no push devices")
	}
	if p.Title == "" && p.Body == "" {
		return herald.Errorf(herald.Required, "body", "a push needs a title or a body")
	}
	m.content, m.recipient, m.subject = p, fmt.Sprintf("%d devices", len(p.Tokens)), p.Title
	return nil
}

func composeWebhook(id string, f map[string]string, m *composed) error {
	w := &herald.Webhook{DeliveryID: id, Method: strings.ToUpper(orDefault(f["method"], "POST")), URL: strings.TrimSpace(f["url"]), Body: []byte(f["body"])}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return herald.Errorf(herald.Invalid, "url", "%q is not an http or https URL", w.URL)
	}
	if w.Headers, err = jsonStrings(f["headers"], "headers"); err != nil {
		return err
	}
	m.content, m.recipient = w, u.Host
	return nil
}

// jsonStrings reads a rendered JSON object of header or data values; values that are not
// strings are kept as their JSON text. Empty text is no object.
func jsonStrings(text, field string) (map[string]string, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, herald.Errorf(herald.Invalid, field, "must render to a JSON object: %v", err)
	}
	out := make(map[string]string, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var s string
		if json.Unmarshal(raw[k], &s) == nil {
			out[k] = s
		} else {
			out[k] = string(raw[k])
		}
	}
	return out, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
