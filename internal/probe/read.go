package probe

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/cilium/ebpf/ringbuf"
)

// ErrCountOnly is returned by Read when the probe sends no events.
var ErrCountOnly = errors.New("probe: opened with CountOnly, there are no events to read")

// Read blocks until the next TCP drop event and writes it into ev.
// It returns ErrClosed once Close has been called.
func (p *Probe) Read(ev *Event) error {
	_, err := p.ReadBatch(unsafe.Slice(ev, 1))
	return err
}

// ReadBatch blocks until at least one event is ready, then fills evs with
// as many ready events as fit and returns how many it wrote. It does not
// allocate.
//
// The kernel wakes the reader only once per WakeupBytes of data, so a wait
// is cut short every FlushInterval to collect what a quiet ring holds.
func (p *Probe) ReadBatch(evs []Event) (int, error) {
	if p.ring == nil {
		return 0, ErrCountOnly
	}
	if len(evs) == 0 {
		return 0, nil
	}
	p.clock.sync()
	n := 0
	for n < len(evs) {
		if n > 0 && p.ring.AvailableBytes() == 0 {
			break
		}
		p.ring.SetDeadline(time.Now().Add(p.flush))
		err := p.ring.ReadInto(&p.rec)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if n > 0 {
				return n, nil
			}
			continue
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
