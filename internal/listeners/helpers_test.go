// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// listen makes a listener in n that never accepts and returns its fd and
// address; the caller closes it.
func listen(t *testing.T, n *sandbox.Netns, addr string, backlog int) (int, netip.AddrPort) {
	t.Helper()
	if netip.MustParseAddrPort(addr).Addr().Is6() && !n.HasIPv6() {
		t.Skip("no IPv6 in the sandbox")
	}
	fd, err := n.Listen(netip.MustParseAddrPort(addr), backlog)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sandbox.LocalAddr(fd)
	if err != nil {
		_ = unix.Close(fd)
		t.Fatal(err)
	}
	return fd, a
}

func netstat(t *testing.T, n *sandbox.Netns) map[string]uint64 {
	t.Helper()
	m, err := n.Netstat()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// dumpIn dumps n's listeners from a thread inside it.
func dumpIn(t *testing.T, n *sandbox.Netns) []Listener {
	t.Helper()
	var ls []Listener
	err := n.Do(func() error {
		var err error
		ls, err = Dump(-1)
		return err
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return ls
}

func find(ls []Listener, addr netip.AddrPort) (Listener, bool) {
	for _, l := range ls {
		if l.Addr == addr {
			return l, true
		}
	}
	return Listener{}, false
}

// pollLog polls w and logs errors (namespaces of other tests vanish while a
// Poll reads them; that is not this test's failure).
func pollLog(t *testing.T, w *Watcher) []Overflow {
	t.Helper()
	o, err := w.Poll(PollCounters, nil)
	if err != nil {
		t.Logf("Poll: %v", err)
	}
	return o
}

// inodeOf is the inode of an open file.
func inodeOf(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// waitQuiet polls w every 200ms, for at least atLeast and at most atMost, until the
// namespace's ListenOverflows has not moved for quiet, and returns all the
// overflows seen for netns.
func waitQuiet(t *testing.T, w *Watcher, n *sandbox.Netns, atLeast, quiet, atMost time.Duration) []Overflow {
	t.Helper()
	var all []Overflow
	start := time.Now()
	last, lastChange := netstat(t, n)["TcpExt:ListenOverflows"], time.Now()
	for {
		time.Sleep(200 * time.Millisecond) // the poll interval; quiet is what is waited for
		for _, o := range pollLog(t, w) {
			if o.Netns == n.Inode() {
				all = append(all, o)
			}
		}
		if v := netstat(t, n)["TcpExt:ListenOverflows"]; v != last {
			last, lastChange = v, time.Now()
		}
		el := time.Since(start)
		if el >= atLeast && time.Since(lastChange) >= quiet {
			break
		}
		if el > atMost {
			t.Fatalf("ListenOverflows still moving after %v", atMost)
		}
	}
	// One more Poll after the last change, so that nothing is left unread.
	for _, o := range pollLog(t, w) {
		if o.Netns == n.Inode() {
			all = append(all, o)
		}
	}
	return all
}
