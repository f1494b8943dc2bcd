//go:build linux

package tcpdropreceiver

import (
	"time"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/listeners"
)

// listenOverflowReason is tcp_drop.reason for listen-queue overflows: the
// kernel's own name for them (enum skb_drop_reason).
const listenOverflowReason = "TCP_LISTEN_OVERFLOW"

// listenerSource is what the receiver needs of the listen-queue watcher
// (listeners.Watcher); tests give it fixtures.
type listenerSource interface {
	Poll() ([]listeners.Overflow, error)
	Listeners() []listeners.Listener
}

// watchedListener is a listening socket with its owner.
type watchedListener struct {
	listeners.Listener
	who attribution
}

// watchListenQueues polls the listen queues every poll interval.
func (r *dropReceiver) watchListenQueues() {
	defer r.tickers.Done()
	ticker := time.NewTicker(r.cfg.ListenQueues.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-r.stopTicker:
			return
		case <-ticker.C:
			r.pollListenQueues()
		}
	}
}

// pollListenQueues reads every listener, reports the overflows since the
// last poll (as log records and in tcp_drop.packets), keeps the listeners
// for the queue gauges, and gives the kernel program their addresses, so that
// packets dropped on their way to a listener are attributed to its owner.
func (r *dropReceiver) pollListenQueues() {
	overflows, err := r.src.listeners.Poll()
	if err != nil {
		// Namespaces that could not be read; the same error every second
		// is logged once.
		if msg := err.Error(); msg != r.lastListenErr {
			r.lastListenErr = msg
			r.set.Logger.Warn("tcp_drop: reading listen queues", zap.Error(err))
		}
	}
	ls := r.src.listeners.Listeners()
	watched := make([]watchedListener, len(ls))
	for i, l := range ls {
		watched[i] = watchedListener{Listener: l, who: attribute(r.src.owners, l.Inode)}
	}
	r.watched.Store(&watched)
	if err := r.src.drops.SetListeners(listenerTable(ls)); err != nil {
		r.set.Logger.Warn("tcp_drop: updating the kernel's listener table", zap.Error(err))
	}

	var found []overflowReport
	for _, o := range overflows {
		if o.Overflows == 0 {
			continue
		}
		rep := overflowReport{Overflow: o, who: attribute(r.src.owners, o.Inode)}
		found = append(found, rep)
		if r.metricsConv != nil {
			r.metricsConv.addOverflows(rep.who, o.Overflows)
		}
	}
	if len(found) > 0 && r.logs != nil {
		logs := r.overflowLogs.convert(found, time.Now())
		opCtx := r.obs.StartLogsOp(r.pushCtx)
		cerr := r.logs.ConsumeLogs(opCtx, logs)
		r.obs.EndLogsOp(opCtx, transport, len(found), cerr)
	}
}

// watchedListeners returns the listeners of the last poll (nil if none).
func (r *dropReceiver) watchedListeners() []watchedListener {
	if w := r.watched.Load(); w != nil {
		return *w
	}
	return nil
}
