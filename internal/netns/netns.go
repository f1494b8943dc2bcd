// SPDX-License-Identifier: Apache-2.0

// Package netns runs code inside a network namespace: on an OS thread
// switched into it and back, so that the rest of the process stays where
// it is. It also creates anonymous namespaces and tells a namespace by its
// inode (what ls -l /proc/<pid>/ns/net and the eBPF program show).
//
// Entering another namespace (setns) and creating one need CAP_SYS_ADMIN.
package netns

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// threadSelf is the calling thread's namespace: /proc/self would be the
// thread-group leader's, which may be elsewhere.
const threadSelf = "/proc/thread-self/ns/net"

// Do runs fn on the calling goroutine, locked to its OS thread, with the
// thread switched into the namespace nsfd (an open nsfs file), then
// switches it back, also when fn fails or panics. Goroutines fn starts are
// not in the namespace; sockets fn creates stay in it wherever they are used
// later. If switching back fails, the thread stays locked, so that the Go
// runtime ends it when the goroutine exits rather than reuse it in the
// wrong namespace, and Do says so in its error.
func Do(nsfd int, fn func() error) error {
	return onThread(nsfd, fn)
}

// Go is Do on a goroutine of its own, waited for: the caller's thread never
// moves, and a thread that could not switch back ends with that goroutine.
// An fn that calls runtime.Goexit (t.Fatal) ends that goroutine; Go then
// returns errGoexit.
func Go(nsfd int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		err := errGoexit
		defer func() { done <- err }()
		err = onThread(nsfd, fn)
	}()
	return <-done
}

var errGoexit = errors.New("netns: fn did not return (runtime.Goexit)")

// New creates an anonymous network namespace and returns an open file of
// it, which keeps it alive until closed (with the sockets made in it). The
// calling thread's namespace does not change.
func New() (int, error) {
	fd := -1
	err := onThread(-1, func() error {
		// Unshare moves only this locked thread; onThread moves it back.
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("netns: create network namespace: %w", err)
		}
		var err error
		if fd, err = unix.Open(threadSelf, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return fmt.Errorf("netns: open the new network namespace: %w", err)
		}
		return nil
	})
	if err != nil {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
		return -1, err
	}
	return fd, nil
}

// onThread locks the calling goroutine to its thread, switches the thread
// into nsfd (unless nsfd < 0, for an fn that changes the namespace itself),
// runs fn and switches back to the thread's first namespace.
func onThread(nsfd int, fn func() error) (err error) {
	runtime.LockOSThread()
	orig, err := unix.Open(threadSelf, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: current network namespace: %w", err)
	}
	defer unix.Close(orig)
	if nsfd >= 0 {
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread() // the thread did not move
			return fmt.Errorf("netns: enter network namespace: %w", err)
		}
	}
	defer func() {
		if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
			// Stay locked: the thread ends with its goroutine.
			err = errors.Join(err, fmt.Errorf("netns: return to the thread's network namespace (thread retired): %w", serr))
			return
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// ThreadInode is the inode of the calling thread's network namespace.
func ThreadInode() (uint32, error) { return Inode(threadSelf) }

// Inode is the inode of the network namespace a path opens
// (/proc/<pid>/ns/net, a bind mount under /run/netns, /proc/<pid>/fd/<n>).
func Inode(path string) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("netns: %w", err)
	}
	return uint32(st.Ino), nil
}

// FDInode is the inode of the network namespace an open file refers to.
func FDInode(fd int) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("netns: %w", err)
	}
	return uint32(st.Ino), nil
}
