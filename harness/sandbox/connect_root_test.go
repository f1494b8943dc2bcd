// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

func mustAddrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func netstat(t testing.TB, n *Netns) map[string]uint64 {
	t.Helper()
	m, err := n.Netstat()
	if err != nil {
		t.Fatalf("Netstat: %v", err)
	}
	return m
}

// delta returns after[key]-before[key], failing if the key is missing.
func delta(t testing.TB, before, after map[string]uint64, key string) uint64 {
	t.Helper()
	b, ok1 := before[key]
	a, ok2 := after[key]
	if !ok1 || !ok2 {
		t.Fatalf("counter %q missing from Netstat", key)
	}
	return a - b
}

// grownBy polls the namespace's counters until key has grown by want since
// before, or limit passes, and returns the last reading: the caller
// asserts on it. Loopback delivers in softirq, which a loaded machine may
// run a little after the system call returns.
func grownBy(t testing.TB, n *Netns, before map[string]uint64, key string, want uint64, limit time.Duration) map[string]uint64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		after := netstat(t, n)
		if delta(t, before, after, key) >= want || time.Now().After(deadline) {
			return after
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConnectRefused(t *testing.T) {
	roottest.Require(t)
	const count = 5
	for _, a := range []string{"127.0.0.1:9", "[::1]:9"} {
		t.Run(a, func(t *testing.T) {
			n := NewForTest(t)
			before := netstat(t, n)
			if err := n.ConnectRefused(mustAddrPort(t, a), count); err != nil {
				t.Fatalf("ConnectRefused: %v", err)
			}
			after := netstat(t, n)
			// Each connect: SYN out, RST back (Tcp MIB counts IPv4 and IPv6 together).
			for key, want := range map[string]uint64{
				"Tcp:ActiveOpens":  count,
				"Tcp:OutRsts":      count,
				"Tcp:AttemptFails": count,
				"Tcp:OutSegs":      2 * count,
				"Tcp:InSegs":       2 * count,
				"Tcp:RetransSegs":  0,
			} {
				if got := delta(t, before, after, key); got != want {
					t.Errorf("%s grew by %d, want %d", key, got, want)
				}
			}
		})
	}
}

func TestConnectRefusedNotRefused(t *testing.T) {
	roottest.Require(t)
	n := NewForTest(t)
	fd, err := n.Listen(mustAddrPort(t, "[::1]:0"), 16)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	addr, err := LocalAddr(fd)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.ConnectRefused(addr, 1); err == nil {
		t.Fatalf("ConnectRefused to listening %v returned nil", addr)
	} else {
		t.Logf("as expected: %v", err)
	}
}

func TestConnectTimeoutNotDropped(t *testing.T) {
	roottest.Require(t)
	n := NewForTest(t)
	// No drop rule: the SYN is answered by a RST, so the connect finishes early.
	start := time.Now()
	err := n.ConnectTimeout(mustAddrPort(t, "127.0.0.1:9"), 2, 2*time.Second)
	if err == nil {
		t.Fatalf("ConnectTimeout to a closed, undropped port returned nil")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ConnectTimeout took %v to notice a refused connect", d)
	}
	t.Logf("as expected: %v", err)
}

func TestListenOverflow(t *testing.T) {
	roottest.Require(t)
	n := NewForTest(t)
	fd, err := n.Listen(mustAddrPort(t, "127.0.0.1:0"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	addr, err := LocalAddr(fd)
	if err != nil {
		t.Fatal(err)
	}
	before := netstat(t, n)
	fds, err := n.StartConnects(addr, 8)
	if err != nil {
		t.Fatalf("StartConnects: %v", err)
	}
	defer closeAll(fds)
	after := grownBy(t, n, before, "TcpExt:ListenOverflows", 1, 3*time.Second)
	over := delta(t, before, after, "TcpExt:ListenOverflows")
	drops := delta(t, before, after, "TcpExt:ListenDrops")
	if over == 0 {
		t.Fatalf("ListenOverflows did not grow with backlog 1 and 8 connects")
	}
	t.Logf("ListenOverflows +%d, ListenDrops +%d", over, drops)
	if drops < over {
		t.Errorf("ListenDrops +%d < ListenOverflows +%d", drops, over)
	}
}

func TestSendUDP(t *testing.T) {
	roottest.Require(t)
	n := NewForTest(t)
	before := netstat(t, n)
	if err := n.SendUDP(mustAddrPort(t, "127.0.0.1:9"), 7); err != nil {
		t.Fatalf("SendUDP: %v", err)
	}
	// The receiving side, then both counters exactly.
	after := grownBy(t, n, before, "Udp:NoPorts", 7, 5*time.Second)
	for _, key := range []string{"Udp:OutDatagrams", "Udp:NoPorts"} {
		if got := delta(t, before, after, key); got != 7 {
			t.Errorf("%s grew by %d, want 7", key, got)
		}
	}
	if err := n.SendUDP(mustAddrPort(t, "[::1]:9"), 3); err != nil {
		t.Fatalf("SendUDP over IPv6: %v", err)
	}
}

// TestWaitAccepted: the accept queue counts the handshakes done, and a wait
// for more than will come fails saying so.
func TestWaitAccepted(t *testing.T) {
	roottest.Require(t)
	n := NewForTest(t)
	fd, err := n.Listen(mustAddrPort(t, "127.0.0.1:0"), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	addr, err := LocalAddr(fd)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := n.StartConnects(addr, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(fds)
	if err := WaitAccepted(fd, 3, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if q, err := AcceptQueue(fd); err != nil || q != 3 {
		t.Fatalf("accept queue %d (%v), want 3", q, err)
	}
	if err := WaitAccepted(fd, 4, 50*time.Millisecond); err == nil {
		t.Fatal("a wait for a fourth connection that was never made returned no error")
	}
}
