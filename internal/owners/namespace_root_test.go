// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// envNamespaceChild makes the test binary a resolver in a cgroup namespace
// of its own (see TestMain): it looks up the socket inode the variable
// holds and prints what it found as namespaceReport.
const envNamespaceChild = "TCPDROP_OWNERS_TEST_NS_CHILD"

// envNamespaceEnter makes the test binary enter a new cgroup namespace, where
// it was started (a group of the test's), and run again there as the
// resolver of envNamespaceChild.
const envNamespaceEnter = "TCPDROP_OWNERS_TEST_NS_ENTER"

// enterCgroupNamespace unshares the cgroup namespace on this thread and
// execs the binary again from it: the new program has this thread's
// namespaces, so every thread of it sees cgroups relative to the new one.
// (unshare(1) would do it too, but busybox's, in the kernel test VMs, has
// no --cgroup.)
func enterCgroupNamespace(ino string) int {
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		fmt.Println("unshare cgroup namespace:", err)
		return 1
	}
	env := append(os.Environ(), envNamespaceChild+"="+ino)
	err := syscall.Exec("/proc/self/exe", []string{os.Args[0], "-test.run=^$"}, slices.DeleteFunc(env, func(v string) bool {
		return strings.HasPrefix(v, envNamespaceEnter+"=")
	}))
	fmt.Println("exec in the cgroup namespace:", err)
	return 1
}

type namespaceReport struct {
	Raw   string      // the owner's /proc/<pid>/cgroup v2 line, as this namespace shows it
	Roots cgroupRoots // the namespace's roots, as the resolver learned them
	Err   string      // CgroupNamespaceErr
	Owner Process
	Found bool
}

func namespaceChild(arg string) int {
	ino, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		fmt.Println("bad inode", arg)
		return 1
	}
	r := NewResolver("/proc")
	rep := namespaceReport{Roots: r.roots}
	if err := r.CgroupNamespaceErr(); err != nil {
		rep.Err = err.Error()
	}
	rep.Owner, rep.Found = r.Lookup(ino, time.Now())
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", rep.Owner.PID)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if p, ok := strings.CutPrefix(line, "0::"); ok {
				rep.Raw = p
			}
		}
	}
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
	return 0
}

// TestLookupFromCgroupNamespace runs a resolver in a cgroup namespace of
// its own, rooted at a group named like a docker container's, as a
// collector in a container is: the kernel writes this test process's
// cgroup relative to that namespace ("/../.."), and the resolver, which
// learns the namespace's place from pid 1's namespace, reports it as the
// host names it.
func TestLookupFromCgroupNamespace(t *testing.T) {
	roottest.Require(t)
	mnt, root, err := sandbox.Cgroup2Mount()
	if err != nil {
		t.Skipf("cannot test cgroups here: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ino := socketInodeOf(t, l)

	const id = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	parent := fmt.Sprintf("tcpdrop-owners-ns-test-%d", os.Getpid())
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
		})
	}
	cgfd, err := unix.Open(filepath.Join(mnt, name), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cgfd)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The child starts in the group (clone3), makes the namespace there
	// (enterCgroupNamespace) and runs the resolver in it.
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envNamespaceEnter+"="+strconv.FormatUint(ino, 10))
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgfd}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("resolver in a cgroup namespace: %v: %s", err, out)
	}
	var rep namespaceReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	t.Logf("%s", out)

	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	want := parseCgroup(self, nil).Path
	nsRoot := path.Join(root, name)
	if !strings.HasPrefix(rep.Raw, "/..") {
		t.Fatalf("in the namespace this process's cgroup reads %q: not relative, the test proves nothing", rep.Raw)
	}
	if rep.Err != "" || rep.Roots["0"] != nsRoot {
		t.Fatalf("roots %v (error %q); want the v2 root at %s", rep.Roots, rep.Err, nsRoot)
	}
	if !rep.Found || rep.Owner.PID != os.Getpid() || rep.Owner.CgroupPath != want {
		t.Fatalf("Lookup from the namespace = %+v, %v; want pid %d in %s (the kernel wrote %s)", rep.Owner, rep.Found, os.Getpid(), want, rep.Raw)
	}
}
