package herald

import (
	"errors"
	"strconv"
	"time"
)

// The rendered messages below are what a channel sends: Liquid has already run, so every
// field is final text. Each channel package exposes a client whose method
// Send(ctx, *M) (SendResult, error) takes one of them, so the delivery code can hold any
// channel behind one small interface of its own.

// Email is a rendered email for one recipient.
type Email struct {
	DeliveryID string            // the delivery this message belongs to; signs tracking links
	From       string            // RFC 5322 address ("Name <a@b>"); empty uses the sender's default
	ReplyTo    string            // optional Reply-To address
	To         string            // the one recipient address
	Subject    string            // the Subject header
	Preheader  string            // inbox preview text, inserted hidden at the top of the HTML body
	HTML       string            // the HTML part; empty sends a text-only email
	Text       string            // the plain-text part; empty derives it from HTML
	Headers    map[string]string // extra headers, set verbatim (encoded when not ASCII)

	// UnsubscribeURL is the https one-click unsubscribe address; when set the email carries
	// List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), and links to it are not tracked.
	UnsubscribeURL string
	// UnsubscribeMailto is an optional address added to List-Unsubscribe as a mailto: URI.
	UnsubscribeMailto string
	// Untracked turns off open and click tracking for this email (transactional "tracked: false").
	Untracked bool
}

// SMS is a rendered text message for one phone number.
type SMS struct {
	DeliveryID string // the delivery this message belongs to
	To         string // E.164 phone number
	From       string // optional sender number or alphanumeric id; empty uses the client's default
	Body       string // the message text
}

// Push is a rendered push notification for all of one person's devices.
type Push struct {
	DeliveryID string            // the delivery this message belongs to; sent as CIO-Delivery-ID
	Tokens     []string          // device tokens; each gets its own provider request
	Title      string            // notification title
	Body       string            // notification body
	Link       string            // optional deep link or https URL opened on tap
	Image      string            // optional image URL
	Data       map[string]string // custom key/value data delivered to the app
}

// Webhook is a rendered outbound HTTP request.
type Webhook struct {
	DeliveryID string            // the delivery this request belongs to
	Method     string            // HTTP method; empty means POST
	URL        string            // absolute http or https URL
	Headers    map[string]string // extra request headers
	Body       []byte            // request body, usually JSON
}

// SendResult is what a provider said about an accepted message.
type SendResult struct {
	ProviderID string // the provider's id: SMTP Message-ID, Twilio SID, FCM message name
	Status     string // the provider's status or final response ("queued", "250 2.0.0 OK")
	Attempts   int    // requests made, retries included
	// Recipients holds one result per device token for a push; empty for other channels.
	Recipients []RecipientResult
}

// RecipientResult is the outcome for one device token of a push.
type RecipientResult struct {
	To         string // the device token
	ProviderID string // the provider's message id when accepted
	Err        error  // nil when accepted; a *SendError otherwise
}

// SendCode classifies a SendError so the caller can decide what happens to the delivery.
type SendCode string

// Send error codes. Permanent codes end the delivery: SendRejected and SendUnregistered
// mark it bounced, the others failed. Temporary codes are retried with backoff.
const (
	SendInvalid      SendCode = "invalid"      // the message cannot be sent as composed; permanent
	SendRejected     SendCode = "rejected"     // the provider refused message or recipient; permanent
	SendUnregistered SendCode = "unregistered" // the device token is gone; permanent, drop the device
	SendRefused      SendCode = "refused"      // Herald's policy refused the destination; permanent
	SendRateLimited  SendCode = "rate_limited" // the provider asked to slow down; temporary
	SendUnavailable  SendCode = "unavailable"  // provider or network failure; temporary
	SendTimeout      SendCode = "timeout"      // no answer in time; temporary
)

// SendError is the error every channel returns. Permanent says whether retrying can help;
// ProviderCode is the provider's own code ("550 5.1.1", Twilio 21211, FCM UNREGISTERED).
type SendError struct {
	Code         SendCode
	Permanent    bool
	ProviderCode string
	Message      string
	// RetryAfter is the provider's hint (Retry-After) for a temporary error; zero if none.
	RetryAfter time.Duration
	Err        error
}

func (e *SendError) Error() string {
	msg := string(e.Code)
	if e.ProviderCode != "" {
		msg += " (" + e.ProviderCode + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *SendError) Unwrap() error { return e.Err }

// PermanentError returns a permanent *SendError.
func PermanentError(code SendCode, providerCode, message string, err error) *SendError {
	return &SendError{Code: code, Permanent: true, ProviderCode: providerCode, Message: message, Err: err}
}

// TemporaryError returns a temporary *SendError.
func TemporaryError(code SendCode, providerCode, message string, err error) *SendError {
	return &SendError{Code: code, ProviderCode: providerCode, Message: message, Err: err}
}

// AsSendError returns err's *SendError; any other non-nil error (a cancelled context, a bug)
// becomes a temporary SendUnavailable, so nothing is given up on by accident. Nil stays nil.
func AsSendError(err error) *SendError {
	if err == nil {
		return nil
	}
	var e *SendError
	if errors.As(err, &e) {
		return e
	}
	return TemporaryError(SendUnavailable, "", "", err)
}

// IsPermanent reports whether err is a *SendError that retrying cannot fix.
func IsPermanent(err error) bool {
	var e *SendError
	return errors.As(err, &e) && e.Permanent
}

// ParseRetryAfter reads an HTTP Retry-After value (seconds or an HTTP date) as a wait from
// now; zero when it is absent, malformed or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil && t.After(now) { // IMF-fixdate
		return t.Sub(now)
	}
	return 0
}
