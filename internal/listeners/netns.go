package listeners

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on a new goroutine locked to its OS thread, with the
// thread switched into the network namespace nsfd (an open nsfs file), and
// waits for it. The thread switches back afterwards; if that fails, the
// goroutine exits still locked and the Go runtime ends the thread rather than
// reuse it in the wrong namespace. The caller's own thread never moves.
func inNetns(nsfd int, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("listeners: current network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("listeners: enter network namespace: %w", err)
			return
		}
		err = fn()
		if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
			// Stay locked: the thread dies with this goroutine.
			done <- errors.Join(err, fmt.Errorf("listeners: return to own network namespace (thread retired): %w", serr))
			return
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}

// lockedDo runs fn with the goroutine locked to its thread, so that fn sees
// one thread's namespace throughout.
func lockedDo(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return fn()
}

// fdInode returns the inode number of an open file.
func fdInode(fd int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}
