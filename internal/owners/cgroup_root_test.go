// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// envChild makes the test binary act as a child process holding a listener
// (see TestMain): it prints the socket's inode and waits for stdin to close.
const envChild = "TCPDROP_OWNERS_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(child())
	}
	if n, err := strconv.Atoi(os.Getenv(envHolder)); err == nil {
		os.Exit(holdSockets(n))
	}
	if ino := os.Getenv(envNamespaceEnter); ino != "" {
		os.Exit(enterCgroupNamespace(ino))
	}
	if ino := os.Getenv(envNamespaceChild); ino != "" {
		os.Exit(namespaceChild(ino))
	}
	os.Exit(m.Run())
}

func child() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer l.Close()
	var st unix.Stat_t
	raw, _ := l.(*net.TCPListener).SyscallConn()
	_ = raw.Control(func(fd uintptr) { err = unix.Fstat(int(fd), &st) })
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println(st.Ino)
	// Until the parent closes stdin, or at most 30s: never outlive a test.
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	return 0
}

// TestLookupChildInCgroup starts a child (this test binary) directly inside a
// new cgroup v2 group named like a docker container's, and checks that its
// socket resolves to it with that group's path and the container id.
func TestLookupChildInCgroup(t *testing.T) {
	roottest.Require(t)
	mnt, root, err := sandbox.Cgroup2Mount()
	if err != nil {
		t.Skipf("cannot test cgroups here: %v", err)
	}
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	parent := fmt.Sprintf("tcpdrop-owners-test-%d", os.Getpid())
	name := parent + "/docker-" + id + ".scope"
	for _, g := range []string{parent, name} {
		dir := filepath.Join(mnt, g)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatalf("create cgroup: %v", err)
		}
		t.Cleanup(func() {
			if err := sandbox.RemoveCgroup(dir); err != nil {
				t.Error(err)
			}
		}) // inner first: cleanups run last-in first-out
	}
	dir := filepath.Join(mnt, name)
	cgfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cgfd)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1")
	// clone3(CLONE_INTO_CGROUP): the child starts in the group, no race.
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgfd}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child in cgroup: %v", err)
	}
	defer func() {
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done: //nolint:errcheck // the helper was told to exit; its status says nothing here
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done //nolint:errcheck // killed: its status says nothing here
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read child's socket inode: %v", err)
	}
	ino, err := strconv.ParseUint(strings.TrimSpace(line), 10, 64)
	if err != nil {
		t.Fatalf("child said %q", line)
	}

	r := NewResolver("/proc")
	got, ok := r.Lookup(ino, time.Now())
	want := Process{PID: cmd.Process.Pid, Comm: comm(filepath.Base(exe)), CgroupPath: path.Join(root, name), ContainerID: id}
	if !ok || got != want {
		t.Fatalf("Lookup(%d) = %+v, %v; want %+v", ino, got, ok, want)
	}
	t.Logf("socket:[%d] -> %+v", ino, got)
}

// comm is what the kernel keeps of a program name: its first 15 bytes.
func comm(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}
