// SPDX-License-Identifier: Apache-2.0

package hostload

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// dropper makes drops at a steady rate to the host's drop target: each a
// non-blocking connect, closed at once, whose SYN the nftables rule drops.
type dropper struct {
	ns   *sandbox.Netns
	stop chan struct{}
	done sync.WaitGroup
	err  error
}

// startDrops starts rate drops a second into h's drop target.
func startDrops(h *Host, rate int) *dropper {
	d := &dropper{ns: h.dropNS, stop: make(chan struct{})}
	d.done.Go(func() { d.err = d.run(rate) })
	return d
}

// tick is how often the dropper sends its next share of connects.
const tick = 10 * time.Millisecond

func (d *dropper) run(rate int) error {
	start := time.Now()
	sent := 0
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return nil
		case now := <-t.C:
			due := int(now.Sub(start).Seconds() * float64(rate))
			if err := d.ns.Do(func() error { return connectAndClose(due - sent) }); err != nil {
				return err
			}
			sent = due
		}
	}
}

// connectAndClose starts n connects to the drop target and closes them.
func connectAndClose(n int) error {
	sa := &unix.SockaddrInet4{Port: dropPort, Addr: [4]byte{127, 0, 0, 1}}
	for range n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("hostload: socket: %w", err)
		}
		err = unix.Connect(fd, sa)
		_ = unix.Close(fd)
		if err != nil && !errors.Is(err, unix.EINPROGRESS) {
			return fmt.Errorf("hostload: connect: %w", err)
		}
	}
	return nil
}

// close stops the drops.
func (d *dropper) close() error {
	close(d.stop)
	d.done.Wait()
	return d.err
}
