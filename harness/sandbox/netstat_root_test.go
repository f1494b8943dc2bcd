// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"testing"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

func TestNetstatReadsNamespace(t *testing.T) {
	roottest.Require(t)
	n := NewForTest(t)
	m := netstat(t, n)
	keys := []string{"TcpExt:ListenOverflows", "TcpExt:ListenDrops", "Tcp:OutRsts", "Tcp:AttemptFails", "Udp:NoPorts", "Ip:InReceives"}
	if n.HasIPv6() {
		keys = append(keys, "Ip6InReceives")
	}
	for _, key := range keys {
		if _, ok := m[key]; !ok {
			t.Errorf("Netstat has no %s", key)
		}
	}
	// A fresh namespace has seen no TCP at all, whatever the host has done.
	if v := m["Tcp:ActiveOpens"]; v != 0 {
		t.Errorf("fresh namespace: Tcp:ActiveOpens = %d, want 0 (reading the wrong namespace?)", v)
	}
	if err := n.ConnectRefused(mustAddrPort(t, "127.0.0.1:9"), 2); err != nil {
		t.Fatal(err)
	}
	if v := netstat(t, n)["Tcp:ActiveOpens"]; v != 2 {
		t.Errorf("after 2 connects: Tcp:ActiveOpens = %d, want 2", v)
	}
}
