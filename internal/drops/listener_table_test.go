// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"maps"
	"net/netip"
	"testing"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

func TestListenerTable(t *testing.T) {
	l := func(netns uint32, addr string, ino uint64, v6only bool) listeners.Listener {
		return listeners.Listener{Netns: netns, Addr: netip.MustParseAddrPort(addr), Inode: ino, V6Only: v6only}
	}
	la := func(netns uint32, addr string) probe.ListenerAddr {
		return probe.ListenerAddr{Netns: netns, Addr: netip.MustParseAddrPort(addr)}
	}
	for _, c := range []struct {
		name string
		ls   []listeners.Listener
		want map[probe.ListenerAddr]uint64
	}{{
		name: "each address of a shared port to its own socket",
		ls:   []listeners.Listener{l(1, "127.0.0.1:80", 10, false), l(1, "127.0.0.2:80", 11, false), l(2, "127.0.0.1:80", 12, false)},
		want: map[probe.ListenerAddr]uint64{la(1, "127.0.0.1:80"): 10, la(1, "127.0.0.2:80"): 11, la(2, "127.0.0.1:80"): 12},
	}, {
		name: "a dual-stack socket on any address also takes IPv4",
		ls:   []listeners.Listener{l(1, "[::]:80", 10, false)},
		want: map[probe.ListenerAddr]uint64{la(1, "[::]:80"): 10, la(1, "0.0.0.0:80"): 10},
	}, {
		name: "an IPv6-only socket does not",
		ls:   []listeners.Listener{l(1, "[::]:80", 10, true)},
		want: map[probe.ListenerAddr]uint64{la(1, "[::]:80"): 10},
	}, {
		name: "an IPv4 socket on any address comes before a dual-stack one",
		ls:   []listeners.Listener{l(1, "[::]:80", 10, false), l(1, "0.0.0.0:80", 11, false)},
		want: map[probe.ListenerAddr]uint64{la(1, "[::]:80"): 10, la(1, "0.0.0.0:80"): 11},
	}, {
		name: "an IPv4-mapped address is IPv4",
		ls:   []listeners.Listener{l(1, "[::ffff:127.0.0.1]:80", 10, false)},
		want: map[probe.ListenerAddr]uint64{la(1, "127.0.0.1:80"): 10},
	}, {
		name: "sockets sharing an address (SO_REUSEPORT): the lowest inode, whatever the order",
		ls:   []listeners.Listener{l(1, "[::]:80", 12, false), l(1, "[::]:80", 10, false), l(1, "[::]:80", 11, false)},
		want: map[probe.ListenerAddr]uint64{la(1, "[::]:80"): 10, la(1, "0.0.0.0:80"): 10},
	}} {
		t.Run(c.name, func(t *testing.T) {
			if got := listenerTable(c.ls); !maps.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
