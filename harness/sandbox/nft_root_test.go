// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"errors"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

func packets(t testing.TB, r *NftRule) uint64 {
	t.Helper()
	p, err := r.Packets()
	if err != nil {
		t.Fatalf("Packets: %v", err)
	}
	return p
}

func TestDropTCPPort(t *testing.T) {
	roottest.Require(t)
	const port = 5555
	const wait = 200 * time.Millisecond // < the 1s initial RTO: one SYN per connect
	n := NewForTest(t)
	rule, err := n.DropTCPPort(port)
	if err != nil {
		t.Fatalf("DropTCPPort: %v", err)
	}
	if rule.Port() != port {
		t.Errorf("Port() = %d", rule.Port())
	}
	if p := packets(t, rule); p != 0 {
		t.Fatalf("fresh rule counted %d packets", p)
	}
	before := netstat(t, n)
	if err := n.ConnectTimeout(mustAddrPort(t, "127.0.0.1:5555"), 3, wait); err != nil {
		t.Fatalf("ConnectTimeout over IPv4: %v", err)
	}
	if err := n.ConnectTimeout(mustAddrPort(t, "[::1]:5555"), 2, wait); err != nil {
		t.Fatalf("ConnectTimeout over IPv6: %v", err)
	}
	after := netstat(t, n)
	opens := delta(t, before, after, "Tcp:ActiveOpens")
	retrans := delta(t, before, after, "Tcp:RetransSegs")
	if opens != 5 {
		t.Errorf("Tcp:ActiveOpens grew by %d, want 5", opens)
	}
	// Every SYN sent (5 first ones plus any retransmission) was dropped by the rule.
	got := packets(t, rule)
	if got == 0 || got != opens+retrans {
		t.Fatalf("rule counted %d packets, want %d SYNs + %d retransmissions", got, opens, retrans)
	}
	t.Logf("rule counted %d packets (%d retransmissions)", got, retrans)

	// A port without a rule still refuses: the rule matches its port only.
	if err := n.ConnectRefused(mustAddrPort(t, "127.0.0.1:5556"), 1); err != nil {
		t.Fatalf("other port: %v", err)
	}

	// A second namespace has its own table and counters.
	m := NewForTest(t)
	if err := m.ConnectRefused(mustAddrPort(t, "127.0.0.1:5555"), 1); err != nil {
		t.Fatalf("the rule of one namespace applies in another: %v", err)
	}
	rule2, err := m.DropTCPPort(port)
	if err != nil {
		t.Fatalf("DropTCPPort in the second namespace: %v", err)
	}
	if p := packets(t, rule2); p != 0 {
		t.Fatalf("fresh rule in the second namespace counted %d packets", p)
	}
	before2 := netstat(t, m)
	if err := m.ConnectTimeout(mustAddrPort(t, "[::1]:5555"), 4, wait); err != nil {
		t.Fatalf("ConnectTimeout in the second namespace: %v", err)
	}
	after2 := netstat(t, m)
	want2 := delta(t, before2, after2, "Tcp:ActiveOpens") + delta(t, before2, after2, "Tcp:RetransSegs")
	if p := packets(t, rule2); p != want2 || p < 4 {
		t.Fatalf("second rule counted %d packets, want %d (>= 4)", p, want2)
	}
	if p := packets(t, rule); p != got {
		t.Fatalf("first rule's counter moved from %d to %d by the second namespace's traffic", got, p)
	}

	// Two rules in one namespace are told apart.
	rule3, err := n.DropTCPPort(5557)
	if err != nil {
		t.Fatalf("second DropTCPPort in the same namespace: %v", err)
	}
	if err := n.ConnectTimeout(mustAddrPort(t, "127.0.0.1:5557"), 1, wait); err != nil {
		t.Fatal(err)
	}
	if p := packets(t, rule3); p != 1 {
		t.Errorf("rule for 5557 counted %d packets, want 1", p)
	}
	if p := packets(t, rule); p != got {
		t.Errorf("rule for 5555 moved from %d to %d", got, p)
	}

	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rule.Packets(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Packets after Close = %v, want ErrClosed", err)
	}
}
