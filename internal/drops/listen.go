// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
)

// Listeners is what the engine needs of the listen-queue watcher
// (listeners.Watcher); tests give it fixtures.
type Listeners interface {
	Poll() ([]listeners.Overflow, error)
	Listeners() []listeners.Listener
}

// Listener is a listening socket, as last polled, with its owner.
type Listener struct {
	listeners.Listener
	Owner Owner
}

// Overflow is one listener's listen-queue overflows since the last poll,
// with its owner.
type Overflow struct {
	listeners.Overflow
	Owner Owner
}

// watchListenQueues polls the listen queues every poll interval.
func (e *Engine) watchListenQueues() {
	defer e.tickers.Done()
	ticker := time.NewTicker(e.opts.ListenQueues.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-e.stopTicker:
			return
		case <-ticker.C:
			e.pollListenQueues()
		}
	}
}

// pollListenQueues reads every listener, counts the overflows since the
// last poll and hands them out, keeps the listeners for Outputs.Counts, and
// gives the kernel program their addresses, so that packets dropped on
// their way to a listener are attributed to its owner. Owners are looked
// up here, off the ring's path.
func (e *Engine) pollListenQueues() {
	overflows, err := e.src.Listeners.Poll()
	polled := time.Now() // every listener of the poll existed then
	if err != nil {
		// Namespaces that could not be read; the same error every second
		// is logged once.
		if msg := err.Error(); msg != e.lastListenErr {
			e.lastListenErr = msg
			e.log.Warn("tcp_drop: reading listen queues", zap.Error(err))
		}
	}
	ls := e.src.Listeners.Listeners()
	watched := make([]Listener, len(ls))
	for i, l := range ls {
		watched[i] = Listener{Listener: l, Owner: Attribute(e.src.Owners, l.Inode, polled)}
	}
	e.watched.Store(&watched)
	if err := e.src.Kernel.SetListeners(listenerTable(ls)); err != nil {
		e.log.Warn("tcp_drop: updating the kernel's listener table", zap.Error(err))
	}

	var found []Overflow
	for _, o := range overflows {
		if o.Overflows == 0 {
			continue
		}
		ov := Overflow{Overflow: o, Owner: Attribute(e.src.Owners, o.Inode, polled)}
		found = append(found, ov)
		e.tally.AddOverflows(ov.Owner, o.Overflows)
	}
	if len(found) > 0 && e.out.Overflows != nil {
		e.out.Overflows(found)
	}
}

// watchedListeners returns the listeners of the last poll (nil if none).
func (e *Engine) watchedListeners() []Listener {
	if w := e.watched.Load(); w != nil {
		return *w
	}
	return nil
}
