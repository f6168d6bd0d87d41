package herald

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// InboxToken is the token with which a person's browser reads their in-app inbox. A
// customer's backend can compute it itself: "site_id:identifier" in unpadded URL-safe base64,
// a dot, and the hex HMAC-SHA256 of "herald-inbox:" + identifier keyed with the workspace's
// App API key. The identifier is addressed as the Track API's path identifiers are (an id, an
// email, or cio_<cio_id>).
func InboxToken(ws *Workspace, identifier string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(ws.SiteID+":"+identifier)) + "." + inboxMAC(ws.AppAPIKey, identifier)
}

// ParseInboxToken splits a token into its site id, identifier and MAC, without checking it.
func ParseInboxToken(token string) (siteID, identifier, mac string, err error) {
	bad := Errorf(Unauthorized, "token", "not a valid inbox token")
	enc, mac, ok := strings.Cut(token, ".")
	if !ok {
		return "", "", "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", "", "", bad
	}
	siteID, identifier, ok = strings.Cut(string(raw), ":")
	if !ok || siteID == "" || identifier == "" {
		return "", "", "", bad
	}
	return siteID, identifier, mac, nil
}

// CheckInboxToken reports whether mac is ws's MAC for identifier.
func CheckInboxToken(ws *Workspace, identifier, mac string) bool {
	return hmac.Equal([]byte(mac), []byte(inboxMAC(ws.AppAPIKey, identifier)))
}

func inboxMAC(key, identifier string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("herald-inbox:" + identifier))
	return hex.EncodeToString(m.Sum(nil))
}
