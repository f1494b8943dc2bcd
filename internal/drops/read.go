//go:build linux

package drops

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// readDrops hands out every batch of events the ring holds as drops. Once
// the kernel program is detached it stops at the second empty read: the
// first may end a wait begun before.
func (e *Engine) readDrops() {
	defer e.readers.Done()
	events := make([]probe.Event, readBatch)
	batch := make([]Drop, 0, readBatch)
	namer := NewNamer(e.src.Names)
	empty := 0
	for {
		n, err := e.src.Kernel.ReadBatch(events)
		if n > 0 {
			empty = 0
			batch = batch[:0]
			for i := range events[:n] {
				batch = append(batch, namer.Drop(&events[i], Attribute(e.src.Owners, events[i].SocketInode)))
			}
			e.out.Drops(batch)
			namer.Reset()
		}
		if errors.Is(err, probe.ErrClosed) {
			return
		}
		if n == 0 && err == nil && e.draining.Load() {
			if empty++; empty == 2 {
				return
			}
		}
		if err != nil {
			// The record that failed is gone: say so. A lasting error must
			// not spin the loop, so wait a flush interval before the next read.
			e.log.Error("tcp_drop: reading drop events", zap.Error(err))
			if e.draining.Load() {
				return
			}
			select {
			case <-e.stopTicker:
			case <-time.After(e.opts.FlushInterval):
			}
		}
	}
}
