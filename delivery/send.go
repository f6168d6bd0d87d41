package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"strings"

	"github.com/heraldhq/herald"
)

// Send renders req for its recipient and records the delivery: queued for the sender loop, or
// failed when a template fails (a missing variable, named in the reason) or the message has
// nowhere to go, or suppressed when the person unsubscribed from a marketing message. The
// delivery is returned in every one of those cases; the error is the render or composition
// failure (a *liquid.Error or *herald.Error naming the field), nil for queued and suppressed.
// A request that addresses nothing (unknown template, person or object) records no delivery.
func (s *Service) Send(ctx context.Context, req herald.SendRequest) (*herald.Delivery, error) {
	ds, errs, err := s.SendMany(ctx, []herald.SendRequest{req})
	if err != nil {
		return nil, err
	}
	return ds[0], errs[0]
}

// SendMany is Send for many requests of one workspace (a journey step's batch of
// recipients): each is rendered as Send renders it, and all their deliveries are recorded in
// one write. ds[i] and errs[i] are what Send would have returned for reqs[i]; err is a fault
// of the write, which then recorded none of them.
func (s *Service) SendMany(ctx context.Context, reqs []herald.SendRequest) (ds []*herald.Delivery, errs []error, err error) {
	ds, errs = make([]*herald.Delivery, len(reqs)), make([]error, len(reqs))
	memo := &objectMemo{objects: map[herald.ObjectRef]*herald.Object{}, types: map[int]*herald.ObjectType{}}
	ops := make([]herald.Op, 0, len(reqs))
	index := make([]int, 0, len(reqs)) // ops[k] records reqs[index[k]]
	for i := range reqs {
		if reqs[i].WorkspaceID != reqs[0].WorkspaceID {
			errs[i] = herald.Errorf(herald.Invalid, "workspace", "a batch belongs to one workspace")
			continue
		}
		d, failure, err := s.build(ctx, &reqs[i], memo)
		if err != nil {
			errs[i] = err
			continue
		}
		ds[i], errs[i] = d, failure
		ops = append(ops, &herald.QueueDelivery{Delivery: d})
		index = append(index, i)
	}
	if len(ops) == 0 {
		return ds, errs, nil
	}
	opErrs, err := s.store.Apply(ctx, reqs[0].WorkspaceID, ops)
	if err != nil {
		return nil, nil, err
	}
	queued := false
	for k, i := range index {
		if opErrs[k] != nil {
			ds[i], errs[i] = nil, opErrs[k]
			continue
		}
		queued = queued || ds[i].Status == herald.StatusQueued
	}
	if queued {
		s.Kick()
	}
	return ds, errs, nil
}

// build renders one request into the delivery to record. failure is the render or composition
// failure the delivery records; err means there is nothing to record.
func (s *Service) build(ctx context.Context, req *herald.SendRequest, objects *objectMemo) (d *herald.Delivery, failure, err error) {
	rc, err := s.prepare(ctx, req, req.CreateMissing)
	if err != nil {
		return nil, nil, err
	}
	rc.objects = objects
	d = &herald.Delivery{
		ID: cmp.Or(req.DeliveryID, s.store.NewDeliveryID()), PersonPK: rc.person.PK, Customer: rc.person.Identifiers(), Channel: req.Channel,
		CampaignID: req.CampaignID, ActionID: req.ActionID, Transactional: req.Transactional,
		Retain: !req.DisableRetention, NextAttemptAt: req.SendAt, Status: herald.StatusQueued,
	}
	if rc.template != nil {
		d.TemplateID = rc.template.ID
	}
	msg, failure := s.render(ctx, req, rc, d.ID)
	switch {
	case failure != nil:
		d.Status, d.Reason = herald.StatusFailed, failure.Error()
	case s.unsubscribed(req, rc):
		d.Status, d.Reason = herald.StatusSuppressed, "the person unsubscribed (unsubscribed: true)"
	default:
		d.Recipient, d.Subject = msg.recipient, msg.subject
		d.Content, _ = json.Marshal(msg.content)
	}
	return d, failure, nil
}

// Preview renders req against its (existing) recipient without recording anything: the
// composed message, or the exact render failure.
func (s *Service) Preview(ctx context.Context, req herald.SendRequest) (map[string]any, error) {
	rc, err := s.prepare(ctx, &req, false)
	if err != nil {
		return nil, err
	}
	msg, failure := s.render(ctx, &req, rc, "preview")
	if failure != nil {
		return nil, failure
	}
	return map[string]any{"type": req.Channel, "recipient": msg.recipient, "fields": msg.fields, "message": msg.content,
		"suppressed": s.unsubscribed(&req, rc)}, nil
}

// prepare validates req and resolves its template, person and workspace settings.
func (s *Service) prepare(ctx context.Context, req *herald.SendRequest, create bool) (*recipient, error) {
	rc := &recipient{}
	if req.Template != "" {
		t, err := s.store.Template(ctx, req.WorkspaceID, req.Template)
		if err != nil {
			return nil, err
		}
		if req.Channel != "" && req.Channel != t.Channel {
			return nil, herald.Errorf(herald.Invalid, "transactional_message_id", "message %d is a %s message, not %s", t.ID, t.Channel, req.Channel)
		}
		req.Channel, rc.template = t.Channel, t
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if err := herald.ValidateMessage(req.Channel, req.Fields, ""); err != nil {
		return nil, err
	}
	p, err := s.store.Person(ctx, req.WorkspaceID, req.Person)
	if herald.ErrorCode(err) == herald.NotFound && create && req.Person.Kind != herald.ByCioID {
		op := &herald.IdentifyPerson{Ref: req.Person}
		if req.Person.Kind == herald.ByEmail {
			op.Email = req.Person.Value
		} else {
			op.ID = req.Person.Value
		}
		if errs, err := s.store.Apply(ctx, req.WorkspaceID, []herald.Op{op}); err != nil || errs[0] != nil {
			if err == nil {
				err = errs[0]
			}
			return nil, herald.WithField(err, "identifiers")
		}
		p, err = s.store.Person(ctx, req.WorkspaceID, req.Person)
	}
	if herald.ErrorCode(err) == herald.NotFound {
		return nil, herald.Errorf(herald.NotFound, "identifiers", "no person with %s", req.Person)
	}
	if err != nil {
		return nil, err
	}
	rc.person = p
	if rc.ws, err = s.workspace(ctx, req.WorkspaceID); err != nil {
		return nil, err
	}
	rc.fields = map[string]string{}
	if rc.template != nil {
		maps.Copy(rc.fields, rc.template.Fields)
	}
	maps.Copy(rc.fields, req.Fields)
	for k, v := range req.Headers {
		rc.fields[headerField+k] = v
	}
	return rc, nil
}

// headerField prefixes the email headers given apart from the content fields, so that they
// are rendered with them.
const headerField = "headers."

// unsubscribed reports whether the message must not reach the person: they set
// unsubscribed, and the message is marketing, or transactional and opted out (the stored
// message's send_to_unsubscribed, or the request's, is false; true by default, as in
// Customer.io).
func (s *Service) unsubscribed(req *herald.SendRequest, rc *recipient) bool {
	if !truthy(rc.person.Attributes["unsubscribed"]) {
		return false
	}
	if !req.Transactional {
		return true
	}
	allow := rc.template == nil || rc.template.SendToUnsubscribed
	if req.SendToUnsubscribed != nil {
		allow = *req.SendToUnsubscribed
	}
	return !allow
}

// truthy reads a boolean attribute the way Customer.io does: true, "true" (any case), 1, "1".
func truthy(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch v := v.(type) {
	case bool:
		return v
	case float64:
		return v == 1
	case string:
		return strings.EqualFold(v, "true") || v == "1"
	}
	return false
}
