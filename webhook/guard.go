package webhook

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// blockedPrefixes are ranges no public webhook lives in, beyond what netip.Addr's
// predicates (loopback, private, link-local, multicast, unspecified) already cover.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT, often internal
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64: would reach IPv4 hosts by the back door
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// guard refuses connections to internal addresses unless their range is allowed. It runs
// as the dialer's Control hook, on the address actually being connected to, so a host name
// that resolves (or later re-resolves) to an internal address is refused too.
type guard struct {
	allow []netip.Prefix
}

// RefusedError is the error for a destination in a refused range.
type RefusedError struct {
	Addr netip.Addr
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("destination %s is in a private, loopback, link-local or reserved range; "+
		"add its range to the webhook AllowCIDRs to send there", e.Addr)
}

func (g guard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if ip = ip.Unmap(); g.refuses(ip) {
		return &RefusedError{Addr: ip}
	}
	return nil
}

func (g guard) refuses(ip netip.Addr) bool {
	ip = ip.WithZone("")
	for _, p := range g.allow {
		if p.Contains(ip) {
			return false
		}
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
