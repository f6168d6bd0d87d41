package push

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldhq/herald"
)

// request is the body of messages:send.
type request struct {
	Message message `json:"message"`
}

type message struct {
	Token        string            `json:"token"`
	Notification notification      `json:"notification"`
	Data         map[string]string `json:"data,omitempty"`
	Webpush      *webpush          `json:"webpush,omitempty"`
}

type notification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
	Image string `json:"image,omitempty"`
}

type webpush struct {
	FCMOptions struct {
		Link string `json:"link"`
	} `json:"fcm_options"`
}

// newMessage maps a Push onto FCM's message. The link travels in the data (key "link"), where
// the mobile SDKs read deep links, and for web push also as fcm_options.link, which FCM
// accepts only for https URLs. The delivery id travels as CIO-Delivery-ID.
func newMessage(p *herald.Push) request {
	m := message{Notification: notification{Title: p.Title, Body: p.Body, Image: p.Image}}
	if len(p.Data) > 0 || p.Link != "" || p.DeliveryID != "" {
		m.Data = make(map[string]string, len(p.Data)+2)
		for k, v := range p.Data {
			m.Data[k] = v
		}
		if p.Link != "" {
			m.Data[LinkKey] = p.Link
		}
		if p.DeliveryID != "" {
			m.Data[DeliveryIDKey] = p.DeliveryID
		}
	}
	if u, err := url.Parse(p.Link); err == nil && u.Scheme == "https" && u.Host != "" {
		m.Webpush = &webpush{}
		m.Webpush.FCMOptions.Link = p.Link
	}
	return request{Message: m}
}

// fcmError is FCM's error body; the FcmError detail carries the specific error code.
type fcmError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type      string `json:"@type"`
			ErrorCode string `json:"errorCode"`
		} `json:"details"`
	} `json:"error"`
}

// statusError classifies an FCM error answer. UNREGISTERED and SENDER_ID_MISMATCH mean the
// token is unusable for good. 401 is temporary: an expired access token is fixed by the
// token source, a wrong one by the operator, and neither is the message's fault. 429 and
// 5xx are temporary; other 4xx (INVALID_ARGUMENT, a bad payload) are permanent.
func statusError(resp *http.Response, raw []byte) *herald.SendError {
	var e fcmError
	_ = json.Unmarshal(raw, &e)
	code := e.Error.Status
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			code = d.ErrorCode
		}
	}
	if code == "" {
		code = strconv.Itoa(resp.StatusCode)
	}
	msg := e.Error.Message
	if msg == "" {
		msg = "HTTP " + resp.Status
	}
	hint := herald.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	switch {
	case code == "UNREGISTERED" || code == "SENDER_ID_MISMATCH" || resp.StatusCode == http.StatusNotFound:
		return herald.PermanentError(herald.SendUnregistered, code, msg, nil)
	case resp.StatusCode == http.StatusTooManyRequests:
		se := herald.TemporaryError(herald.SendRateLimited, code, msg, nil)
		se.RetryAfter = hint
		return se
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode >= 500:
		se := herald.TemporaryError(herald.SendUnavailable, code, msg, nil)
		se.RetryAfter = hint
		return se
	default:
		return herald.PermanentError(herald.SendRejected, code, msg, nil)
	}
}
