// SPDX-License-Identifier: Apache-2.0

// Package hostname names the node the collector runs on. In a container
// os.Hostname is the container's (a Kubernetes pod's name); the node's is
// that of the UTS namespace of pid 1 when the collector sees the host's
// processes (hostPID: true, docker --pid=host), as the DaemonSet runs it.
//
// Entering that namespace needs CAP_SYS_ADMIN, which the collector has for
// the network namespaces.
package hostname

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// initNS is the UTS namespace of pid 1 of the pid namespace /proc shows.
const initNS = "/proc/1/ns/uts"

// Node returns the node's hostname: that of pid 1's UTS namespace, or
// this process's when it is in that namespace, or when it may not look at
// pid 1's (no CAP_SYS_PTRACE: then it runs on the host, as a user granted
// capabilities does). When pid 1's namespace cannot be entered, it returns
// this process's hostname and an error that says why it may not be the
// node's.
func Node() (string, error) { return node(initNS) }

// node is Node with the namespace of the node given by the path that opens it.
func node(nodeNS string) (string, error) {
	own, err := os.Hostname()
	if err != nil {
		return "", err
	}
	same, err := sameNamespace("/proc/self/ns/uts", nodeNS)
	if err != nil || same {
		return own, nil
	}
	name, err := in(nodeNS)
	if err != nil {
		return own, fmt.Errorf("hostname: the node's hostname (pid 1's): %w; using this container's, %q", err, own)
	}
	return name, nil
}

func sameNamespace(a, b string) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return false, err
	}
	if err := unix.Stat(b, &sb); err != nil {
		return false, err
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}

// in reads the hostname of the UTS namespace path opens, on a thread of
// its own that enters it and is never used again: the goroutine exits
// locked to it, and the Go runtime ends the thread.
func in(path string) (string, error) {
	type result struct {
		name string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWUTS); err != nil {
			done <- result{err: fmt.Errorf("enter %s: %w", path, err)}
			return
		}
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			done <- result{err: err}
			return
		}
		done <- result{name: unix.ByteSliceToString(u.Nodename[:])}
	}()
	r := <-done
	return r.name, r.err
}
