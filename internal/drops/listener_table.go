// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// listenerTable is the kernel program's listener table for ls, so that a
// packet dropped on its way is matched with the socket the kernel would
// have given it; probe.ListenerTable holds the rules.
func listenerTable(ls []listeners.Listener) map[probe.ListenerAddr]uint64 {
	socks := make([]probe.ListeningSocket, len(ls))
	for i, l := range ls {
		socks[i] = probe.ListeningSocket{Netns: l.Netns, Addr: l.Addr, Inode: l.Inode, V6Only: l.V6Only}
	}
	return probe.ListenerTable(socks)
}
