package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Signature headers. A receiver recomputes
//
//	X-Herald-Signature: v0=hex(HMAC-SHA256(secret, "v0:" + X-Herald-Timestamp + ":" + body))
//
// over the raw body bytes, compares in constant time, and rejects old timestamps to stop
// replays; Verify does exactly that. The timestamp is Unix seconds, and the scheme is
// Customer.io's reporting-webhook signature (X-CIO-Signature) with a version prefix.
const (
	TimestampHeader = "X-Herald-Timestamp"
	SignatureHeader = "X-Herald-Signature"
	DeliveryHeader  = "X-Herald-Delivery-ID" // the delivery id, when the webhook has one
)

// Sign returns the X-Herald-Signature value for a timestamp and body.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:" + timestamp + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received request's signature headers against its raw body: the signature
// must match and the timestamp be within tolerance of now (either way, for clock skew).
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sig := h.Get(TimestampHeader), h.Get(SignatureHeader)
	if ts == "" || sig == "" {
		return herald.Errorf(herald.Unauthorized, "signature", "missing %s or %s", TimestampHeader, SignatureHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return herald.Errorf(herald.Unauthorized, "signature", "timestamp %q is not Unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return herald.Errorf(herald.Unauthorized, "signature", "timestamp is %s away from now", d.Round(time.Second))
	}
	if !strings.HasPrefix(sig, "v0=") || !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return herald.Errorf(herald.Unauthorized, "signature", "signature does not match")
	}
	return nil
}
