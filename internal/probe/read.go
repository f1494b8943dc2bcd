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

// ReadBatch waits up to FlushInterval for events, then fills evs with as
// many ready events as fit and returns how many it wrote: 0 when none came.
// It returns ErrClosed once Close has been called. It does not allocate.
//
// The kernel wakes the reader only once per WakeupBytes of data, so the
// wait is what collects the last events of a burst.
func (p *Probe) ReadBatch(evs []Event) (int, error) {
	if p.ring == nil {
		return 0, ErrCountOnly
	}
	p.clock.sync()
	p.ring.SetDeadline(time.Now().Add(p.flush))
	n := 0
	for n < len(evs) {
		if n > 0 && p.ring.AvailableBytes() == 0 {
			break
		}
		err := p.ring.ReadInto(&p.rec)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			return n, nil
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
