// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf/ringbuf"
)

// ErrCountOnly is returned by ReadBatch when the probe sends no events.
var ErrCountOnly = errors.New("probe: opened with CountOnly, there are no events to read")

// ReadBatch waits up to FlushInterval for events (not at all once
// detached), then fills evs with as many ready events as fit and returns
// how many it wrote: 0 when none came.
// It returns ErrClosed once Close has been called. It does not allocate.
//
// The kernel wakes the reader only once per WakeupBytes of data, so the
// wait is what collects the last events of a burst.
func (p *Probe) ReadBatch(evs []Event) (int, error) {
	if p.ring == nil {
		return 0, ErrCountOnly
	}
	p.reading.RLock()
	defer p.reading.RUnlock()
	select {
	case <-p.closed:
		return 0, ErrClosed
	default:
	}
	p.clock.sync()
	wait := p.flush
	if p.detached.Load() {
		wait = 0
	}
	p.ring.SetDeadline(time.Now().Add(wait))
	n := 0
	for n < len(evs) {
		if n > 0 && p.ring.AvailableBytes() == 0 {
			break
		}
		err := p.ring.ReadInto(&p.rec)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, ringbuf.ErrFlushed):
			return n, nil // the wait ended: by the deadline, or by Detach
		case errors.Is(err, ringbuf.ErrClosed):
			return n, ErrClosed
		default:
			return n, fmt.Errorf("tcp_drop: reading the event ring buffer: %w", err)
		}
		mono, err := decodeEvent(p.rec.RawSample, &evs[n])
		if err != nil {
			return n, err
		}
		evs[n].Time = p.clock.toTime(mono)
		n++
	}
	return n, nil
}
