// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// In a container with a cgroup namespace of its own (docker and Kubernetes
// on cgroup v2), every /proc/<pid>/cgroup this process reads is written
// relative to that namespace: "/" for its own container, "/../<id>" for
// its neighbour, "/../../../kubepods-besteffort.slice/..." for another pod.
// With the host's pid namespace, pid 2 is kthreadd, the kernel's, in the
// initial cgroup namespace: a thread moved into that namespace reads the
// absolute paths of this process's own cgroups, the namespace's roots,
// once; every path read later is rebased on them (cgroupRoots.rebase).
// (Pid 1, the host's init, may be out of reach: one with capabilities this
// process lacks cannot be inspected, even by root.) Without the host's pid
// namespace there is no way to the host's cgroup namespace.

// namespaceRoots returns the roots of this process's cgroup namespace as
// the host's namespace sees them, or nil when both are one namespace (no
// container, or not one with a cgroup namespace of its own) or procRoot
// has no namespaces (a fixture). Entering the host's namespace needs
// CAP_SYS_ADMIN.
func namespaceRoots(procRoot string) (cgroupRoots, error) {
	self, err := nsInode(procRoot + "/self/ns/cgroup")
	if err != nil {
		return nil, nil
	}
	// kthreadd is pid 2 in the host's pid namespace only.
	if b, err := os.ReadFile(procRoot + "/2/comm"); err != nil || string(b) != "kthreadd\n" {
		return nil, errors.New("owners: pid 2 is not kthreadd: not the host's pid namespace, so the host's cgroup namespace is out of reach")
	}
	hostNS := procRoot + "/2/ns/cgroup"
	host, err := nsInode(hostNS)
	if errors.Is(err, os.ErrPermission) {
		// Without CAP_SYS_PTRACE: most likely a collector on the host
		// given only the capabilities to load the program. (The
		// DaemonSet has it.)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("owners: this process's cgroup namespace cannot be compared with kthreadd's: %w", err)
	}
	if self == host {
		return nil, nil
	}
	type result struct {
		roots cgroupRoots
		err   error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the Go runtime ends this thread with the
		// goroutine, in the namespace it was moved into.
		runtime.LockOSThread()
		roots, err := readRootsFrom(procRoot, hostNS)
		done <- result{roots, err}
	}()
	res := <-done
	if res.err != nil {
		return nil, res.err
	}
	// The namespace's root is where this process was when it was made; a
	// process moved below it since sees "/<below>" in its own namespace.
	own, err := os.ReadFile(procRoot + "/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("owners: read this process's cgroups: %w", err)
	}
	for id, below := range parseRoots(own) {
		if root, ok := res.roots[id]; ok && below != "/" {
			res.roots[id] = strings.TrimSuffix(root, below)
		}
	}
	return res.roots, nil
}

// readRootsFrom moves the calling thread into the cgroup namespace hostNS
// and reads this process's cgroups there.
func readRootsFrom(procRoot, hostNS string) (cgroupRoots, error) {
	fd, err := unix.Open(hostNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("owners: open the host's cgroup namespace: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWCGROUP); err != nil {
		return nil, fmt.Errorf("owners: enter the host's cgroup namespace (needs CAP_SYS_ADMIN): %w", err)
	}
	b, err := os.ReadFile(procRoot + "/thread-self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("owners: read this process's cgroups from the host's namespace: %w", err)
	}
	return parseRoots(b), nil
}

// parseRoots reads /proc/self/cgroup as the roots of its hierarchies.
func parseRoots(b []byte) cgroupRoots {
	roots := cgroupRoots{}
	for _, line := range strings.Split(string(b), "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if _, p, ok := strings.Cut(rest, ":"); ok && strings.HasPrefix(p, "/") {
			roots[id] = p
		}
	}
	return roots
}

// nsInode is the inode of a namespace file: what tells namespaces apart.
func nsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}
