// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"maps"
	"net/netip"
	"testing"
)

func TestListenerTable(t *testing.T) {
	l := func(netns uint32, addr string, ino uint64, v6only bool) ListeningSocket {
		return ListeningSocket{Netns: netns, Addr: netip.MustParseAddrPort(addr), Inode: ino, V6Only: v6only}
	}
	la := func(netns uint32, addr string) ListenerAddr {
		return ListenerAddr{Netns: netns, Addr: netip.MustParseAddrPort(addr)}
	}
	for _, c := range []struct {
		name string
		ls   []ListeningSocket
		want map[ListenerAddr]uint64
	}{{
		name: "each address of a shared port to its own socket",
		ls:   []ListeningSocket{l(1, "127.0.0.1:80", 10, false), l(1, "127.0.0.2:80", 11, false), l(2, "127.0.0.1:80", 12, false)},
		want: map[ListenerAddr]uint64{la(1, "127.0.0.1:80"): 10, la(1, "127.0.0.2:80"): 11, la(2, "127.0.0.1:80"): 12},
	}, {
		name: "a dual-stack socket on any address also takes IPv4",
		ls:   []ListeningSocket{l(1, "[::]:80", 10, false)},
		want: map[ListenerAddr]uint64{la(1, "[::]:80"): 10, la(1, "0.0.0.0:80"): 10},
	}, {
		name: "an IPv6-only socket does not",
		ls:   []ListeningSocket{l(1, "[::]:80", 10, true)},
		want: map[ListenerAddr]uint64{la(1, "[::]:80"): 10},
	}, {
		name: "an IPv4 socket on any address comes before a dual-stack one",
		ls:   []ListeningSocket{l(1, "[::]:80", 10, false), l(1, "0.0.0.0:80", 11, false)},
		want: map[ListenerAddr]uint64{la(1, "[::]:80"): 10, la(1, "0.0.0.0:80"): 11},
	}, {
		name: "an IPv4-mapped address is IPv4",
		ls:   []ListeningSocket{l(1, "[::ffff:127.0.0.1]:80", 10, false)},
		want: map[ListenerAddr]uint64{la(1, "127.0.0.1:80"): 10},
	}, {
		name: "sockets sharing an address (SO_REUSEPORT): the lowest inode, whatever the order",
		ls:   []ListeningSocket{l(1, "[::]:80", 12, false), l(1, "[::]:80", 10, false), l(1, "[::]:80", 11, false)},
		want: map[ListenerAddr]uint64{la(1, "[::]:80"): 10, la(1, "0.0.0.0:80"): 10},
	}} {
		t.Run(c.name, func(t *testing.T) {
			if got := ListenerTable(c.ls); !maps.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
