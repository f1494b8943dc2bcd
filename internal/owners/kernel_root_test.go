// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

// TestKernelMatchesProc: the kernel's iterator finds the same TCP sockets
// with the same holders as a scan of /proc, for children holding sockets
// and for this process; a socket shared with a child (inherited) goes to
// the lower pid. This process's listener is an MPTCP socket (Go's default).
func TestKernelMatchesProc(t *testing.T) {
	roottest.Require(t)
	k, err := openKernelScanner()
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	own := socketInodeOf(t, l)
	hs := startHolders(t, 3, 300)

	fromKernel, err := k.scan(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	fromProc := scanSockets("/proc", 0, time.Now().Add(time.Hour), 1<<30)
	if !fromKernel.full || !fromProc.full {
		t.Fatalf("scans not complete: kernel %v, /proc %v", fromKernel.full, fromProc.full)
	}
	if pid := fromKernel.sockets[own]; int(pid) != os.Getpid() {
		t.Errorf("this process's listener: kernel says pid %d, want %d", pid, os.Getpid())
	}
	pids := map[int32]bool{int32(os.Getpid()): true}
	for _, h := range hs {
		pids[int32(h.pid)] = true
		for _, ino := range []uint64{h.first, h.last} {
			if pid := fromKernel.sockets[ino]; int(pid) != h.pid {
				t.Errorf("socket %d of holder %d: kernel says pid %d", ino, h.pid, pid)
			}
		}
	}
	// Every TCP socket of these processes, as /proc lists them (which also
	// lists their other sockets: a pipe's peer, a unix socket).
	n := 0
	for ino, pid := range fromProc.sockets {
		if !pids[pid] {
			continue
		}
		if kpid, ok := fromKernel.sockets[ino]; ok {
			n++
			if kpid != pid {
				t.Errorf("socket %d: kernel says pid %d, /proc %d", ino, kpid, pid)
			}
		}
	}
	if n < 300+1 {
		t.Errorf("%d sockets of the test's processes found by both, want at least %d", n, 300+1)
	}
	for ino, pid := range fromKernel.sockets {
		if pids[pid] {
			if _, ok := fromProc.sockets[ino]; !ok {
				t.Errorf("socket %d of pid %d found by the kernel, not in /proc", ino, pid)
			}
		}
	}
}

// TestResolverUsesKernel: a Resolver on the kernel's iterator names the
// holder of a child's socket with its name and cgroup from /proc, and a
// socket no one holds costs one scan, then none until its backoff ends.
func TestResolverUsesKernel(t *testing.T) {
	roottest.Require(t)
	r := NewResolver("/proc")
	if err := r.UseKernel(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hs := startHolders(t, 2, 10)
	seen := time.Now()
	for _, h := range hs {
		o, ok := r.Lookup(h.last, seen)
		if !ok || o.PID != h.pid || o.Comm == "" || o.CgroupPath == "" {
			t.Errorf("Lookup(%d) = %+v, %v; want pid %d with its name and cgroup", h.last, o, ok, h.pid)
		}
	}
	for range 100 {
		if _, ok := r.Lookup(1<<50, time.Now()); ok {
			t.Fatal("a socket no one holds was found")
		}
	}
	s := r.Stats()
	if !s.Kernel || s.KernelErrors != 0 || s.Scans != 2 || s.Remembered != 99 {
		t.Errorf("%+v; want 2 kernel scans (the children's sockets, the missing one), 99 lookups answered from the misses", s)
	}
	t.Logf("%+v", s)
}
