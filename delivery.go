package herald

import (
	"encoding/json"
	"strings"
)

// Channel is how a message reaches a person.
type Channel string

// Channels, named as Customer.io's activity types name them (email_sent, push_opened …).
const (
	ChannelEmail   Channel = "email"
	ChannelSMS     Channel = "sms"
	ChannelPush    Channel = "push"
	ChannelInApp   Channel = "in_app"
	ChannelWebhook Channel = "webhook"
)

// Valid reports whether c is one of Herald's channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelEmail, ChannelSMS, ChannelPush, ChannelInApp, ChannelWebhook:
		return true
	}
	return false
}

// Delivery statuses and metrics. A delivery's Status is the furthest it has got; its history
// keeps every metric in order.
const (
	StatusQueued       = "queued"
	StatusAttempted    = "attempted" // a temporary failure; another attempt follows
	StatusSent         = "sent"
	StatusDelivered    = "delivered"
	StatusOpened       = "opened"
	StatusClicked      = "clicked"
	StatusConverted    = "converted"
	StatusBounced      = "bounced"
	StatusFailed       = "failed"
	StatusSuppressed   = "suppressed"
	StatusUnsubscribed = "unsubscribed"
	StatusDismissed    = "dismissed" // an in-app message closed by its reader
	StatusSpammed      = "spammed"
	StatusDropped      = "dropped"
	StatusDeferred     = "deferred"
)

// statusRank orders statuses: a metric with a higher rank advances a delivery's Status, a
// lower one (an open reported after a click) is only recorded in its history.
var statusRank = map[string]int{
	StatusQueued: 0, StatusAttempted: 1, StatusDeferred: 1, StatusSent: 2, StatusDelivered: 3, StatusOpened: 4,
	StatusDismissed: 4, StatusClicked: 5, StatusConverted: 6, StatusUnsubscribed: 6, StatusSpammed: 6,
	StatusBounced: 7, StatusDropped: 7, StatusFailed: 7, StatusSuppressed: 7,
}

// Advances reports whether metric moves a delivery in status cur forward.
func Advances(cur, metric string) bool { return statusRank[metric] > statusRank[cur] }

// Final reports whether a delivery in status s will not be attempted again.
func Final(s string) bool { return s != StatusQueued && s != StatusAttempted && s != StatusDeferred }

// Delivery is one message sent (or meant to be sent) to one person on one channel.
type Delivery struct {
	ID            string          `json:"id"`
	WorkspaceID   int64           `json:"-"`
	PersonPK      int64           `json:"-"`
	Customer      Identifiers     `json:"customer_identifiers"`
	Channel       Channel         `json:"type"`
	CampaignID    int64           `json:"campaign_id,omitempty"`
	ActionID      int64           `json:"action_id,omitempty"`
	TemplateID    int64           `json:"transactional_message_id,omitempty"`
	Transactional bool            `json:"transactional"`
	Status        string          `json:"status"`
	Reason        string          `json:"failure_reason,omitempty"`
	Recipient     string          `json:"recipient,omitempty"`
	Subject       string          `json:"subject,omitempty"`
	Content       json.RawMessage `json:"content,omitempty"` // the rendered message; empty once retention ends
	Retain        bool            `json:"-"`                 // keep Content after sending
	Attempts      int             `json:"attempts"`
	NextAttemptAt int64           `json:"-"`
	CreatedAt     int64           `json:"created"`
	UpdatedAt     int64           `json:"updated"`
}

// DeliveryEvent is one entry of a delivery's status history.
type DeliveryEvent struct {
	Metric    string          `json:"metric"`
	Timestamp int64           `json:"timestamp"`
	Reason    string          `json:"reason,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// DeliveryMetric records a metric of a delivery through the write path: it appends to the
// delivery's history, advances its status and appends a "<metric>_<channel>" change record
// to the recipient's activity log. Unknown delivery ids are a NotFound error on DeliveryID.
type DeliveryMetric struct {
	DeliveryID string
	Metric     string
	Timestamp  int64  // 0 means now
	Reason     string // why it failed or bounced
	Href       string // the clicked link
	Recipient  string // the address or token it concerns, when reported
	// Content, when set with Metric sent, replaces the stored rendered content (nil keeps it;
	// an empty non-nil slice clears it, for disable_message_retention).
	Content json.RawMessage
	Attempt int // the attempt that produced a sent, bounced or failed metric
	// RetryAt, with Metric attempted, is when the next attempt is due (unix seconds).
	RetryAt int64
}

// Metrics accepted from outside (Track API, tracking links, in-app SDK).
var reportable = map[string]bool{
	StatusDelivered: true, StatusOpened: true, StatusClicked: true, StatusConverted: true, StatusBounced: true,
	StatusSpammed: true, StatusDropped: true, StatusDeferred: true, StatusDismissed: true, StatusUnsubscribed: true,
	StatusFailed: true,
}

// Reportable reports whether metric may be reported by Track API callers and SDKs.
func Reportable(metric string) bool { return reportable[metric] }

// Validate checks the op's fields.
func (op *DeliveryMetric) Validate() error {
	op.DeliveryID = strings.TrimSpace(op.DeliveryID)
	if op.DeliveryID == "" {
		return Errorf(Required, "delivery_id", "is required")
	}
	if len(op.DeliveryID) > MaxIdentifierBytes {
		return Errorf(TooLong, "delivery_id", "is over %d bytes", MaxIdentifierBytes)
	}
	if _, ok := statusRank[op.Metric]; !ok {
		return Errorf(Invalid, "metric", "%q is not a delivery metric", op.Metric)
	}
	if len(op.Reason) > MaxAttrValueBytes {
		op.Reason = op.Reason[:MaxAttrValueBytes]
	}
	return CheckTimestamp("timestamp", op.Timestamp)
}

// DeliveryActivity is the activity type of a delivery metric, as Customer.io names it.
func DeliveryActivity(metric string, ch Channel) string { return metric + "_" + string(ch) }

// QueueDelivery records a new delivery through the write path: queued (due now, or at
// NextAttemptAt), or already final when rendering failed or the person may not receive it
// (Status failed or suppressed, with Reason), in which case it is also logged as activity.
// Delivery.Customer.CioID names the recipient; Delivery.ID must be unique.
type QueueDelivery struct{ Delivery *Delivery }

// Validate checks the delivery's identity, channel and status.
func (op *QueueDelivery) Validate() error {
	d := op.Delivery
	switch {
	case d == nil:
		return Errorf(Required, "delivery", "is required")
	case d.ID == "":
		return Errorf(Required, "delivery.id", "is required")
	case d.Customer.CioID == "":
		return Errorf(Required, "identifiers", "the recipient is required")
	case !d.Channel.Valid():
		return Errorf(Invalid, "type", "%q is not a channel", d.Channel)
	}
	switch d.Status {
	case "":
		d.Status = StatusQueued
	case StatusQueued, StatusFailed, StatusSuppressed:
	default:
		return Errorf(Invalid, "status", "a new delivery is queued, failed or suppressed, not %q", d.Status)
	}
	return nil
}

// RelatedObject is one of a person's related objects with the relationship's attributes, as
// templates see it under objects.<plural_slug>. The attributes are the stored JSON objects,
// undecoded: a template reads them once, into its own values.
type RelatedObject struct {
	ObjectID     string
	CioObjectID  string
	Attributes   json.RawMessage // the object's attributes, a JSON object
	Relationship json.RawMessage // the relationship's attributes, a JSON object
}

// SendRequest asks for one message to one person: a stored template (Template, its id or
// name), inline Fields, or both (inline fields override the template's). Data is trigger.*
// (transactional message_data); Event and TriggerObject fill event.* and trigger.<type>.*.
type SendRequest struct {
	WorkspaceID int64
	Person      PersonRef
	Channel     Channel
	Template    string
	Fields      map[string]string
	Headers     map[string]string // extra email headers (values are Liquid)
	Data        map[string]any
	Event       *EventContext
	// TriggerObject is the object that fired; the recipient's relationship to it is
	// customer._relationship.* and trigger.relationship.*.
	TriggerObject *ObjectRef
	// TriggerPerson, when another person's relationship to TriggerObject fired (a patient
	// booked, the doctor is told), is that person: trigger.customer.* and
	// trigger.relationship.* are then theirs.
	TriggerPerson *PersonRef
	Transactional bool
	// SendToUnsubscribed overrides the template's setting for a transactional message.
	SendToUnsubscribed *bool
	// Tracked overrides the template's open and click tracking.
	Tracked          *bool
	DisableRetention bool    // forget the rendered content once sent
	SendAt           int64   // unix seconds; 0 sends now
	Device           *Device // push: send to this device instead of the person's (custom_device)
	CampaignID       int64
	ActionID         int64
	Journey          map[string]any
	Campaign         map[string]any
	// CreateMissing creates the person when nobody has the identifier (transactional sends
	// to a new email address, as Customer.io does).
	CreateMissing bool
	// DeliveryID, when set, is the delivery's id: a send repeated with the same id (a
	// workflow step run again after a crash) records and sends nothing new.
	DeliveryID string
}

// EventContext is the event a message is rendered against.
type EventContext struct {
	Name      string         `json:"name"`
	ID        string         `json:"id"`
	Timestamp int64          `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// Validate checks the request's recipient, channel and content.
func (r *SendRequest) Validate() error {
	if r.Person.IsZero() {
		return Errorf(Required, "identifiers", "is required: {\"id\": …}, {\"email\": …} or {\"cio_id\": …}")
	}
	if err := r.Person.Validate("identifiers"); err != nil {
		return err
	}
	if r.Template == "" && len(r.Fields) == 0 {
		return Errorf(Required, "transactional_message_id", "give a stored message's id or the message content inline")
	}
	if r.Channel == "" {
		r.Channel = ChannelEmail
	}
	if r.Template == "" {
		return ValidateMessage(r.Channel, r.Fields, "")
	}
	return nil
}
