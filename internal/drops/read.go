// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// readDrops reads the ring into free batches and passes them on to
// deliverDrops. It waits only for a free batch, when every batch is in
// flight because Outputs.Drops is behind; never for an owner. Once the
// kernel program is detached it stops at the second empty read: the first
// may end a wait begun before.
func (e *Engine) readDrops() {
	defer e.readers.Done()
	defer close(e.pipe.read)
	empty := 0
	for {
		b := e.pipe.freeBatch()
		n, err := e.src.Kernel.ReadBatch(b.events)
		if n > 0 {
			empty = 0
			b.n, b.readAt = n, time.Now()
			e.pipe.read <- b // never waits: the channel holds every batch
		} else {
			e.pipe.free <- b
		}
		if errors.Is(err, probe.ErrClosed) {
			return
		}
		if n == 0 && err == nil && e.draining.Load() {
			empty++
			if empty == 2 {
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
