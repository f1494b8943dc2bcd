// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"errors"
	"net"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

// threadNetnsInode is the inode of the calling thread's network namespace.
func threadNetnsInode(t testing.TB) uint32 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatalf("stat /proc/thread-self/ns/net: %v", err)
	}
	return uint32(st.Ino)
}

func TestNew(t *testing.T) {
	roottest.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	outer := threadNetnsInode(t)

	n := NewForTest(t)
	if got := threadNetnsInode(t); got != outer {
		t.Fatalf("New moved the calling thread from netns %d to %d", outer, got)
	}
	if n.Inode() == 0 || n.Inode() == outer {
		t.Fatalf("Inode() = %d, want non-zero and different from the caller's %d", n.Inode(), outer)
	}
	m := NewForTest(t)
	if m.Inode() == n.Inode() {
		t.Fatalf("two namespaces share inode %d", n.Inode())
	}

	var inside uint32
	var lo *net.Interface
	var addrs []net.Addr
	err := n.Do(func() error {
		inside = threadNetnsInode(t)
		var err error
		if lo, err = net.InterfaceByName("lo"); err != nil {
			return err
		}
		addrs, err = lo.Addrs()
		return err
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if inside != n.Inode() {
		t.Errorf("inside Do the thread is in netns %d, want %d", inside, n.Inode())
	}
	if got := threadNetnsInode(t); got != outer {
		t.Fatalf("Do left the thread in netns %d, want %d", got, outer)
	}
	if lo.Flags&net.FlagUp == 0 {
		t.Errorf("lo is not up: %v", lo.Flags)
	}
	want := map[string]bool{"127.0.0.1": false, "::1": false}
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		delete(want, "::1")
		t.Logf("no IPv6 in this kernel")
	} else if !n.HasIPv6() {
		t.Errorf("HasIPv6() = false although the kernel has IPv6")
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if _, ok := want[ipn.IP.String()]; ok {
				want[ipn.IP.String()] = true
			}
		}
	}
	for ip, found := range want {
		if !found {
			t.Errorf("lo has no %s; addresses %v", ip, addrs)
		}
	}

	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := n.Do(func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close = %v, want ErrClosed", err)
	}
	if _, err := n.Netstat(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Netstat after Close = %v, want ErrClosed", err)
	}
}

// TestDoRestores checks that Do switches back after fn fails or panics.
func TestDoRestores(t *testing.T) {
	roottest.Require(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	outer := threadNetnsInode(t)
	n := NewForTest(t)

	sentinel := errors.New("sentinel")
	if err := n.Do(func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Fatalf("Do = %v, want fn's error", err)
	}
	if got := threadNetnsInode(t); got != outer {
		t.Fatalf("after a failing fn the thread is in netns %d, want %d", got, outer)
	}

	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want boom", r)
			}
		}()
		_ = n.Do(func() error { panic("boom") })
	}()
	if got := threadNetnsInode(t); got != outer {
		t.Fatalf("after a panicking fn the thread is in netns %d, want %d", got, outer)
	}
}

// TestSocketsKeepNetns checks that a socket made inside Do stays in the
// namespace when used outside: a listener in one namespace is not reachable
// from another.
func TestSocketsKeepNetns(t *testing.T) {
	roottest.Require(t)
	n, m := NewForTest(t), NewForTest(t)
	fd, err := n.Listen(mustAddrPort(t, "127.0.0.1:0"), 16)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	addr, err := LocalAddr(fd)
	if err != nil {
		t.Fatal(err)
	}
	if addr.Port() == 0 {
		t.Fatalf("LocalAddr = %v, want a port", addr)
	}
	// Same port, other namespace: nobody listens there.
	if err := m.ConnectRefused(addr, 1); err != nil {
		t.Fatalf("connect in the other namespace: %v", err)
	}
	// Same namespace: the listener accepts (into its backlog), so this is not refused.
	if err := n.ConnectRefused(addr, 1); err == nil {
		t.Fatalf("ConnectRefused to a listener in the same namespace succeeded")
	}
}
