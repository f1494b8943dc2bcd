// SPDX-License-Identifier: Apache-2.0

// Package hostname names the node the collector runs on. In a container
// os.Hostname is the container's (a Kubernetes pod's name); the node's is
// that of the kernel's own UTS namespace, kthreadd's (pid 2), when the
// collector sees the host's processes (hostPID: true, docker --pid=host),
// as the DaemonSet runs it. internal/owners finds the host's cgroup
// namespace the same way.
//
// Looking at pid 2's namespace needs CAP_SYS_PTRACE, entering it
// CAP_SYS_ADMIN: the collector's container has both.
package hostname

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// kernelNS is the UTS namespace of pid 2 of the pid namespace /proc
// shows: the host's kthreadd, with the host's pid namespace.
const kernelNS = "/proc/2/ns/uts"

// Node returns the node's hostname: that of pid 2's UTS namespace, or
// this process's when it is in that namespace, or when it may not look at
// pid 2's (no CAP_SYS_PTRACE: then it runs on the host, as a user granted
// capabilities does). When pid 2's namespace cannot be entered, it returns
// this process's hostname and an error that says why it may not be the
// node's.
func Node() (string, error) {
	own, err := os.Hostname()
	if err != nil {
		return "", err
	}
	same, err := sameNamespace("/proc/self/ns/uts", kernelNS)
	if err != nil || same {
		return own, nil
	}
	name, err := in(kernelNS)
	if err != nil {
		return own, fmt.Errorf("hostname: the node's hostname (pid 2's): %w; using this container's, %q", err, own)
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
