package webhook

import (
	"net/netip"
	"testing"
)

func TestGuardRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"169.254.169.254", true}, {"0.0.0.0", true}, {"100.64.0.1", true}, {"255.255.255.255", true},
		{"224.0.0.1", true}, {"::1", true}, {"fe80::1", true}, {"fc00::1", true}, {"::", true},
		{"::ffff:127.0.0.1", true}, {"64:ff9b::a00:1", true},
		{"93.184.216.34", false}, {"8.8.8.8", false}, {"2606:4700::1111", false},
	}
	g := guard{}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			err := g.control("tcp", netip.AddrPortFrom(netip.MustParseAddr(tt.addr), 443).String(), nil)
			if got := err != nil; got != tt.refused {
				t.Errorf("refused = %v (%v), want %v", got, err, tt.refused)
			}
		})
	}
	t.Run("an allowed range is let through", func(t *testing.T) {
		t.Parallel()
		g := guard{allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
		if err := g.control("tcp", "10.9.9.9:80", nil); err != nil {
			t.Error(err)
		}
	})
}
