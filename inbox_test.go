package herald_test

import (
	"testing"

	"github.com/heraldhq/herald"
)

func TestInboxTokenRoundTripsAndRefusesForgeries(t *testing.T) {
	t.Parallel()
	ws := &herald.Workspace{SiteID: "site", AppAPIKey: "key"}
	tok := herald.InboxToken(ws, "ann@example.com")
	site, ident, mac, err := herald.ParseInboxToken(tok)
	if err != nil || site != "site" || ident != "ann@example.com" || !herald.CheckInboxToken(ws, ident, mac) {
		t.Fatalf("parse %q: %q %q %v", tok, site, ident, err)
	}
	for _, tc := range []struct{ name, token string }{
		{"a bare mac", herald.InboxToken(ws, "bob")[len(herald.InboxToken(ws, "bob"))-64:]},
		{"no dot", "abc"},
		{"not base64", "!!!.00"},
		{"no identifier", "c2l0ZTo.00"},
	} {
		if _, _, _, err := herald.ParseInboxToken(tc.token); err == nil {
			t.Errorf("%s: %q parsed", tc.name, tc.token)
		}
	}
	other := &herald.Workspace{SiteID: "site", AppAPIKey: "other"}
	if herald.CheckInboxToken(other, ident, mac) {
		t.Error("a token of one workspace key passed another's check")
	}
}

func FuzzParseInboxToken(f *testing.F) {
	ws := &herald.Workspace{SiteID: "site", AppAPIKey: "key"}
	f.Add(herald.InboxToken(ws, "ann"))
	f.Add("c2l0ZTphbm4.deadbeef")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		site, ident, mac, err := herald.ParseInboxToken(token)
		if err != nil {
			return
		}
		if site == "" || ident == "" {
			t.Fatalf("parsed %q into an empty site or identifier", token)
		}
		if herald.CheckInboxToken(ws, ident, mac) && herald.InboxToken(ws, ident) != token && site == ws.SiteID {
			t.Fatalf("%q passes the check but is not the minted token", token)
		}
	})
}
