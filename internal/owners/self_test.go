// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"bytes"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketInodeOf returns the inode of a listener's socket, as fstat sees it.
func socketInodeOf(t testing.TB, l net.Listener) uint64 {
	t.Helper()
	raw, err := l.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return st.Ino
}

// TestLookupSelf: a listener of this process resolves to this process. No
// root needed: a process may read its own descriptors.
func TestLookupSelf(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ino := socketInodeOf(t, l)
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	info := parseCgroup(cg, nil)
	want := Process{PID: os.Getpid(), Comm: string(bytes.TrimSpace(comm)), CgroupPath: info.Path,
		ContainerID: info.ContainerID, PodUID: info.PodUID}
	r := NewResolver("/proc")
	// This test runs on the host, root or not: its cgroup paths are the
	// host's, and there is nothing to warn about.
	if err := r.CgroupNamespaceErr(); err != nil {
		t.Errorf("on the host: %v", err)
	}
	got, ok := r.Lookup(ino, time.Now())
	if !ok || got != want {
		t.Fatalf("Lookup(%d) = %+v, %v; want %+v", ino, got, ok, want)
	}
	t.Logf("socket:[%d] -> %+v (rescan of /proc took %v)", ino, got, r.Stats().LastScan)
}
