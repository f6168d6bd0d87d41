package trackapi

import (
	"encoding/json"
	"net/http"

	"github.com/heraldhq/herald"
)

// metric builds the DeliveryMetric of a reported metric, refusing what only Herald's sender
// may record (queued, sent, attempted, suppressed).
func metric(id, name string, ts int64, reason, href, recipient string) (herald.Op, error) {
	if name == "" {
		return nil, herald.Errorf(herald.Required, "metric", "is required")
	}
	if !herald.Reportable(name) {
		return nil, herald.Errorf(herald.Invalid, "metric", "%q cannot be reported; use delivered, opened, clicked, converted, bounced, spammed, dropped, deferred, dismissed or unsubscribed", name)
	}
	op := &herald.DeliveryMetric{DeliveryID: id, Metric: name, Timestamp: ts, Reason: reason, Href: href, Recipient: recipient}
	return op, op.Validate()
}

// metrics serves POST /api/v1/metrics: {"delivery_id", "metric", "timestamp", "recipient",
// "reason", "href"}.
func (h *Handler) metrics(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	body, err := v1Body(r)
	if err != nil {
		v1Fail(w, err)
		return
	}
	fields := map[string]string{}
	for _, k := range []string{"delivery_id", "metric", "recipient", "reason", "href"} {
		if fields[k], err = str(body[k], k); err != nil {
			v1Fail(w, err)
			return
		}
	}
	ts, err := herald.Int64Value(body["timestamp"], "timestamp")
	if err != nil {
		v1Fail(w, err)
		return
	}
	op, err := metric(fields["delivery_id"], fields["metric"], ts, fields["reason"], fields["href"], fields["recipient"])
	h.v1Apply(w, r, ws, op, err)
}

// pushEvents serves the legacy POST /api/v1/push/events: {"delivery_id", "event": opened |
// converted | delivered, "device_id", "timestamp"}.
func (h *Handler) pushEvents(w http.ResponseWriter, r *http.Request, ws *herald.Workspace) {
	body, err := v1Body(r)
	if err != nil {
		v1Fail(w, err)
		return
	}
	fields := map[string]string{}
	for _, k := range []string{"delivery_id", "event", "device_id"} {
		if fields[k], err = str(body[k], k); err != nil {
			v1Fail(w, err)
			return
		}
	}
	ts, err := herald.Int64Value(body["timestamp"], "timestamp")
	if err != nil {
		v1Fail(w, err)
		return
	}
	var op herald.Op
	switch ev := fields["event"]; ev {
	case herald.StatusOpened, herald.StatusConverted, herald.StatusDelivered:
		op, err = metric(fields["delivery_id"], ev, ts, "", "", fields["device_id"])
	case "":
		err = herald.Errorf(herald.Required, "event", "is required: opened, converted or delivered")
	default:
		err = herald.Errorf(herald.Invalid, "event", "%q is not opened, converted or delivered", ev)
	}
	h.v1Apply(w, r, ws, op, err)
}

// parseDeliveryOp reads a v2 delivery operation: action event, identifiers {id: delivery id},
// name the metric, attributes {device_token, href, reason}.
func parseDeliveryOp(in *v2Op) (herald.Op, error) {
	if in.Action != "event" {
		return nil, herald.Errorf(herald.Invalid, "action", "a delivery operation's action is event, not %q", in.Action)
	}
	ids, err := object(in.Identifiers, "identifiers")
	if err != nil {
		return nil, err
	}
	id, err := str(ids["id"], "identifiers.id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, herald.Errorf(herald.Required, "identifiers.id", "the delivery id is required")
	}
	name, err := str(in.Name, "name")
	if err != nil {
		return nil, err
	}
	ts, err := herald.Int64Value(in.Timestamp, "timestamp")
	if err != nil {
		return nil, err
	}
	attrs, err := object(in.Attributes, "attributes")
	if err != nil {
		return nil, err
	}
	get := func(k string) string {
		var s string
		if raw, ok := attrs[k]; ok && json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		return s
	}
	return metric(id, name, ts, get("reason"), get("href"), get("device_token"))
}
