// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// AcceptQueue returns how many connections the listening socket fd holds
// ready to accept: for a listener the kernel reports its accept queue in
// TCP_INFO's unacked field.
func AcceptQueue(fd int) (int, error) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, fmt.Errorf("sandbox: TCP_INFO of listener %d: %w", fd, err)
	}
	return int(info.Unacked), nil
}

// WaitAccepted waits until the listening socket fd holds n connections
// ready to accept (their handshakes done), or fails after limit.
func WaitAccepted(fd, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		queued, err := AcceptQueue(fd)
		if err != nil {
			return err
		}
		if queued >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox: after %v, listener %d holds %d connections ready to accept, want %d", limit, fd, queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// WaitState waits until the TCP socket fd is in state (unix.BPF_TCP_*, the
// kernel's numbering in TCP_INFO), or fails after limit.
func WaitState(fd int, state uint8, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			return fmt.Errorf("sandbox: TCP_INFO of socket %d: %w", fd, err)
		}
		if info.State == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox: after %v, socket %d is in state %d, want %d", limit, fd, info.State, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
