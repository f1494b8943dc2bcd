// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"net"
	"testing"
)

// TestWatcherOwnNamespace needs no privilege: the Watcher's own namespace is
// read without setns.
func TestWatcherOwnNamespace(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := l.Addr().(*net.TCPAddr).AddrPort()
	w := NewWatcher("/proc", nil)
	// Its handles keep the namespaces alive.
	defer w.Close()
	pollLog(t, w)
	found := false
	for _, x := range w.Listeners() {
		if x.Addr == a {
			found = true
			if x.Netns != selfProcessNetns() || x.Inode == 0 || x.MaxBacklog == 0 {
				t.Errorf("own listener %+v", x)
			}
		}
	}
	if !found {
		t.Fatalf("the Watcher did not see %v in its own namespace", a)
	}
	s := w.Stats()
	if s.Namespaces < 1 || s.Listeners < 1 || s.Duration <= 0 {
		t.Errorf("Stats = %+v", s)
	}
	t.Logf("Poll: %+v", s)
}
