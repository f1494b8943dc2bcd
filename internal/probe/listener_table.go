// SPDX-License-Identifier: Apache-2.0

package probe

import "net/netip"

// The listener table says which listening socket a packet dropped on its
// way in was going to: the kernel program looks up its destination there
// (the address, then the unspecified address of its family, which stands
// for a socket bound to any address). User space builds the whole table
// here (ListenerTable) and the listen-state program changes it as sockets
// start and stop listening (bpf/listener_table.h, the twin of this file):
// both apply the same rules, checked against each other on a real kernel
// (TestKernelListenerTableFollowsTheRules).
//
//   - An address has one key: an IPv4-mapped IPv6 address is IPv4, and
//     zones are dropped (ListenerAddr.key).
//   - An IPv6 socket bound to any address and not IPv6-only takes IPv4
//     connections too: it is also the IPv4 any-address listener of its
//     port, unless an IPv4 socket bound to any address on that port is
//     there, which the kernel prefers (dual stack).
//   - Of the sockets sharing an address (SO_REUSEPORT, or one address
//     written two ways), the lowest inode owns it: the same one every time,
//     whatever the order they started listening in.

// ListenerAddr is a listening socket as the kernel program looks it up: by
// network namespace, address and port.
type ListenerAddr struct {
	Netns uint32 // network namespace inode
	Addr  netip.AddrPort
}

// ListeningSocket is what the listener table needs of a listening socket.
type ListeningSocket struct {
	Netns  uint32         // network namespace inode
	Addr   netip.AddrPort // the address it is bound to
	Inode  uint64         // socket inode
	V6Only bool           // an IPv6 socket that takes no IPv4 connections (IPV6_V6ONLY)
}

// ListenerTable is the listener table for ls: address -> socket inode.
func ListenerTable(ls []ListeningSocket) map[ListenerAddr]uint64 {
	table := make(map[ListenerAddr]uint64, len(ls))
	dualStack := make(map[ListenerAddr]uint64)
	for _, l := range ls {
		addListener(table, ListenerAddr{Netns: l.Netns, Addr: l.Addr}, l.Inode)
		if l.Addr.Addr() == netip.IPv6Unspecified() && !l.V6Only {
			any4 := netip.AddrPortFrom(netip.IPv4Unspecified(), l.Addr.Port())
			addListener(dualStack, ListenerAddr{Netns: l.Netns, Addr: any4}, l.Inode)
		}
	}
	for la, ino := range dualStack {
		if _, taken := table[la]; !taken {
			table[la] = ino
		}
	}
	return table
}

// addListener puts the socket ino into table under la, as the kernel
// program keys it; of the sockets sharing la, the lowest inode stays.
func addListener(table map[ListenerAddr]uint64, la ListenerAddr, ino uint64) {
	la = la.canonical()
	if old, ok := table[la]; !ok || ino < old {
		table[la] = ino
	}
}

// canonical is l as the kernel program keys it: one spelling per key.
func (l ListenerAddr) canonical() ListenerAddr {
	return ListenerAddr{Netns: l.Netns, Addr: netip.AddrPortFrom(l.Addr.Addr().Unmap().WithZone(""), l.Addr.Port())}
}

// key is the kernel program's key for l.
func (l ListenerAddr) key() tcpdropListenerKey {
	addr := l.Addr.Addr().Unmap()
	k := tcpdropListenerKey{Netns: l.Netns, Port: l.Addr.Port(), Family: 6}
	if addr.Is4() {
		k.Family = 4
	}
	copy(k.Addr[:], addr.AsSlice())
	return k
}
