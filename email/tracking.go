package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/heraldhq/herald"
)

// Tracker signs and verifies the tokens of tracked links and open pixels. A click URL is
// {BaseURL}/t/c/{token} and an open pixel {BaseURL}/t/o/{token}; the token carries the
// delivery id (and for a click the link's index and original URL) with an HMAC-SHA256 tag,
// so the redirect needs no lookup and a tampered token is refused.
type Tracker struct {
	BaseURL string // public base URL of Herald's tracking endpoints, without a trailing slash
	Secret  []byte // HMAC key; keep it stable across restarts or old links stop working
}

// Token kinds, the first byte of a token's payload, so an open token is no click token.
const (
	kindClick byte = 'c'
	kindOpen  byte = 'o'
)

// tagLen is the length of the truncated HMAC tag; 128 bits is ample for a URL token.
const tagLen = 16

// Click is what a verified click token says.
type Click struct {
	DeliveryID string
	Index      int    // the link's position among the email's tracked links, from 0
	URL        string // the original link to redirect to
}

// ClickURL returns the tracked URL for link number index of the delivery.
func (t *Tracker) ClickURL(deliveryID string, index int, link string) string {
	p := appendString([]byte{kindClick}, deliveryID)
	p = binary.AppendUvarint(p, uint64(index))
	p = append(p, link...)
	return strings.TrimSuffix(t.BaseURL, "/") + "/t/c/" + t.sign(p)
}

// OpenURL returns the open-pixel URL of the delivery.
func (t *Tracker) OpenURL(deliveryID string) string {
	return strings.TrimSuffix(t.BaseURL, "/") + "/t/o/" + t.sign(appendString([]byte{kindOpen}, deliveryID))
}

// VerifyClick checks a click token (the path segment after /t/c/) and returns its content.
func (t *Tracker) VerifyClick(token string) (Click, error) {
	p, err := t.open(token, kindClick)
	if err != nil {
		return Click{}, err
	}
	id, rest, ok := readString(p)
	if !ok {
		return Click{}, errBadToken
	}
	index, n := binary.Uvarint(rest)
	if n <= 0 || index > 1<<31 {
		return Click{}, errBadToken
	}
	return Click{DeliveryID: id, Index: int(index), URL: string(rest[n:])}, nil
}

// VerifyOpen checks an open token (the path segment after /t/o/) and returns its delivery id.
func (t *Tracker) VerifyOpen(token string) (string, error) {
	p, err := t.open(token, kindOpen)
	if err != nil {
		return "", err
	}
	id, rest, ok := readString(p)
	if !ok || len(rest) != 0 {
		return "", errBadToken
	}
	return id, nil
}

var errBadToken = herald.Errorf(herald.Invalid, "token", "invalid or tampered tracking token")

// sign returns base64url(payload || tag).
func (t *Tracker) sign(payload []byte) string {
	return base64.RawURLEncoding.EncodeToString(append(payload, t.tag(payload)...))
}

// open decodes a token, checks its tag in constant time and its kind, and returns the
// payload after the kind byte.
func (t *Tracker) open(token string, kind byte) ([]byte, error) {
	if len(t.Secret) == 0 {
		return nil, errors.New("email: tracker has no secret")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token) // one spelling per token
	if err != nil || len(raw) < 1+tagLen {
		return nil, errBadToken
	}
	payload, tag := raw[:len(raw)-tagLen], raw[len(raw)-tagLen:]
	if !hmac.Equal(tag, t.tag(payload)) || payload[0] != kind {
		return nil, errBadToken
	}
	return payload[1:], nil
}

func (t *Tracker) tag(payload []byte) []byte {
	m := hmac.New(sha256.New, t.Secret)
	m.Write(payload)
	return m.Sum(nil)[:tagLen]
}

// appendString appends s with a uvarint length prefix.
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// readString reads a uvarint length-prefixed string.
func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}
