// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// maxSleep bounds one sleep so a stop request is seen soon.
const maxSleep = 10 * time.Millisecond

// tally is what one worker did.
type tally struct {
	sent, errors, behind uint64
	maxLag               time.Duration
	errnos               map[unix.Errno]uint64
}

// worker sends its slots on its own socket.
type worker struct {
	fd     int
	pk     *packer
	b      *batch
	p      *pacer
	stride uint64 // global slot step between this worker's packets
	t      tally
}

// run sends until the pacer is done, stop is set or deadline (0 = none)
// passes. It returns an error only for a failure that would repeat forever.
func (w *worker) run(start time.Time, deadline time.Duration, stop *atomic.Bool) error {
	w.t.errnos = map[unix.Errno]uint64{}
	for !w.p.done() && !stop.Load() {
		now := time.Since(start)
		if deadline > 0 && now >= deadline {
			return nil
		}
		first, n, behind, lag, wait := w.p.step(now, len(w.b.hdrs))
		w.t.behind += behind
		if n == 0 {
			if wait > 0 {
				sleep(min(wait, maxSleep))
			}
			continue
		}
		w.t.maxLag = max(w.t.maxLag, lag)
		for i := range n {
			w.pk.write(w.b.bufs[i], first+uint64(i)*w.stride)
		}
		if err := w.send(w.b.hdrs[:n]); err != nil {
			return err
		}
	}
	return nil
}

// send hands msgs to the kernel. Every message ends up counted as sent or
// as an error; a failed one is not retried, so a slot is never sent twice.
func (w *worker) send(msgs []unix.Mmsghdr) error {
	for len(msgs) > 0 {
		n, errno := sendmmsg(w.fd, msgs)
		switch {
		case errno == 0 && n > 0:
			// A short count means message n failed; the next call reports it.
			w.t.sent += uint64(n)
			msgs = msgs[n:]
		case errno == unix.EINTR:
		case errno == 0, transient(errno):
			w.t.errors++
			w.t.errnos[errno]++
			msgs = msgs[1:]
			runtime.Gosched() // let the softirq work drain
		default:
			w.t.errors += uint64(len(msgs))
			w.t.errnos[errno] += uint64(len(msgs))
			return fmt.Errorf("dropgen: sendmmsg: %w", errno)
		}
	}
	return nil
}

// transient errors cost one packet; anything else stops the worker.
func transient(errno unix.Errno) bool {
	switch errno {
	case unix.EAGAIN, unix.ENOBUFS, unix.ENOMEM, unix.ECONNREFUSED:
		return true
	}
	return false
}

// sleep blocks the thread for d with nanosleep: Go's timers round waits
// under a millisecond up to one, which would make pacing lumpy.
func sleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	_ = unix.Nanosleep(&ts, nil) // EINTR only shortens the wait
}
