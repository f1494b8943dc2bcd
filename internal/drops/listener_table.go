// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"net/netip"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// listenerTable is the kernel program's listener table for ls: each
// listener under the address it is bound to, so that a packet dropped on
// its way is matched with the socket the kernel would have given it (see
// probe.ListenerAddr for how the program looks it up, probe.AddListener for
// which of the sockets sharing an address it keeps).
func listenerTable(ls []listeners.Listener) map[probe.ListenerAddr]uint64 {
	table := make(map[probe.ListenerAddr]uint64, len(ls))
	// An IPv6 socket bound to any address takes IPv4 connections too,
	// unless an IPv4 socket bound to any address on its port takes them
	// first, as the kernel prefers.
	dualStack := make(map[probe.ListenerAddr]uint64)
	for _, l := range ls {
		probe.AddListener(table, probe.ListenerAddr{Netns: l.Netns, Addr: l.Addr}, l.Inode)
		if l.Addr.Addr() == netip.IPv6Unspecified() && !l.V6Only {
			any4 := netip.AddrPortFrom(netip.IPv4Unspecified(), l.Addr.Port())
			probe.AddListener(dualStack, probe.ListenerAddr{Netns: l.Netns, Addr: any4}, l.Inode)
		}
	}
	for la, ino := range dualStack {
		if _, taken := table[la]; !taken {
			table[la] = ino
		}
	}
	return table
}
