//go:build linux

package tcpdropreceiver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// transport names the receiver's source and data format in the
// collector's own telemetry.
const transport = "ebpf"

// readBatch is how many events become one plog.Logs at most.
const readBatch = 1024

// drainTimeout bounds how long Shutdown waits for a stuck pipeline when the
// collector gives it no deadline of its own.
const drainTimeout = 5 * time.Second

// dropReceiver serves a logs pipeline, a metrics pipeline, or both, from
// one probe.
type dropReceiver struct {
	cfg *Config
	set receiver.Settings

	logs    consumer.Logs             // nil without a logs pipeline
	metrics consumer.Metrics          // nil without a metrics pipeline
	obs     *receiverhelper.ObsReport // counts accepted and refused records

	// open attaches the probe and opens the rest; tests replace it.
	open         func(cfg *Config, countOnly bool, logger *zap.Logger) (*sources, error)
	drainTimeout time.Duration

	startOnce    sync.Once
	startErr     error
	shutdownOnce sync.Once

	src          *sources
	metricsConv  *metricsConverter
	overflowLogs overflowConverter
	watched      atomic.Pointer[[]watchedListener] // the listeners of the last poll
	// lastListenErr is the last error of a listen-queue poll, logged once.
	lastListenErr string
	pushCtx       context.Context // ends pushes stuck in the pipeline at shutdown
	cancelPush    context.CancelFunc
	draining      atomic.Bool   // the probe is detached: read what is left, then stop
	stopTicker    chan struct{} // ends the metrics loop
	readers       sync.WaitGroup
	tickers       sync.WaitGroup
}

func newDropReceiver(cfg *Config, set receiver.Settings) (*dropReceiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              transport,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	return &dropReceiver{cfg: cfg, set: set, obs: obs, open: openKernel, drainTimeout: drainTimeout}, nil
}

// Start attaches the probe once, whichever pipeline starts first, and
// starts reading. It fails, and so does the collector, when the kernel
// program cannot be loaded; the error says what is missing.
func (r *dropReceiver) Start(_ context.Context, _ component.Host) error {
	r.startOnce.Do(func() { r.startErr = r.start() })
	return r.startErr
}

func (r *dropReceiver) start() error {
	logger := r.set.Logger
	src, err := r.open(r.cfg, r.logs == nil, logger)
	if err != nil {
		return err
	}
	r.src = src
	// Background work must outlive Start's context.
	r.pushCtx, r.cancelPush = context.WithCancel(context.Background())
	r.stopTicker = make(chan struct{})
	if r.logs != nil {
		r.readers.Add(1)
		go r.readEvents(newLogConverter(src.names, src.owners, r.set.BuildInfo.Version))
		r.overflowLogs = overflowConverter{logs: newLogConverter(src.names, src.owners, r.set.BuildInfo.Version)}
	}
	if r.metrics != nil {
		r.metricsConv = newMetricsConverter(r.cfg.MetricsBuilderConfig, r.set, src.names, src.owners, time.Now())
		r.tickers.Add(1)
		go r.emitMetrics()
	}
	if src.listeners != nil {
		r.pollListenQueues() // the baseline: overflows count from here
		r.tickers.Add(1)
		go r.watchListenQueues()
	}
	logger.Info("tcp_drop: attached to the kfree_skb tracepoint",
		zap.Bool("logs", r.logs != nil), zap.Bool("metrics", r.metrics != nil),
		zap.Bool("owners", src.owners != nil), zap.Bool("listen_queues", src.listeners != nil))
	return nil
}

// readEvents turns every batch of drop events into one push of log records.
// A slow consumer holds this loop up; the kernel then counts what the full
// ring could not take in tcp_drop.events.lost. Once the probe is detached
// it stops at the second empty read: the first may end a wait begun before.
func (r *dropReceiver) readEvents(conv *logConverter) {
	defer r.readers.Done()
	events := make([]probe.Event, readBatch)
	empty := 0
	for {
		n, err := r.src.drops.ReadBatch(events)
		if n > 0 {
			empty = 0
			logs := conv.convert(events[:n], time.Now())
			opCtx := r.obs.StartLogsOp(r.pushCtx)
			cerr := r.logs.ConsumeLogs(opCtx, logs)
			r.obs.EndLogsOp(opCtx, transport, n, cerr)
		}
		if errors.Is(err, probe.ErrClosed) {
			return
		}
		if n == 0 && err == nil && r.draining.Load() {
			if empty++; empty == 2 {
				return
			}
		}
		if err != nil {
			// The record that failed is gone: say so. A lasting error must
			// not spin the loop, so wait a flush interval before the next read.
			r.set.Logger.Error("tcp_drop: reading drop events", zap.Error(err))
			if r.draining.Load() {
				return
			}
			select {
			case <-r.stopTicker:
			case <-time.After(r.cfg.FlushInterval):
			}
		}
	}
}

// emitMetrics pushes the exact counts every collection interval.
func (r *dropReceiver) emitMetrics() {
	defer r.tickers.Done()
	ticker := time.NewTicker(r.cfg.CollectionInterval)
	defer ticker.Stop()
	for {
		select {
		case <-r.stopTicker:
			return
		case now := <-ticker.C:
			r.collect(now)
		}
	}
}

// collect pushes the kernel's counts as they are now.
func (r *dropReceiver) collect(now time.Time) {
	counts, err := r.src.drops.Counts()
	if err != nil {
		r.set.Logger.Error("tcp_drop: reading the kernel's counts", zap.Error(err))
		return
	}
	md := r.metricsConv.convert(counts, r.watchedListeners(), now)
	opCtx := r.obs.StartMetricsOp(r.pushCtx)
	cerr := r.metrics.ConsumeMetrics(opCtx, md)
	r.obs.EndMetricsOp(opCtx, transport, md.DataPointCount(), cerr)
}

// Shutdown detaches the probe, so that no new drop arrives, delivers the
// events still in the ring and the final counts (losses included), then
// unloads the probe. A pipeline that does not take them within the
// collector's deadline, or drainTimeout, gets its pushes cancelled. It is
// safe without Start and more than once.
func (r *dropReceiver) Shutdown(ctx context.Context) error {
	var err error
	r.shutdownOnce.Do(func() {
		if r.src == nil {
			return
		}
		deadline, cancel := context.WithTimeout(ctx, r.drainTimeout)
		defer cancel()
		stop := context.AfterFunc(deadline, r.cancelPush)
		defer stop()

		err = r.src.drops.Detach()
		r.draining.Store(true)
		r.readers.Wait()
		close(r.stopTicker)
		r.tickers.Wait()
		if r.src.listeners != nil {
			r.pollListenQueues() // the overflows since the last poll
		}
		if r.metrics != nil {
			r.collect(time.Now())
		}
		r.cancelPush()
		err = errors.Join(err, r.src.drops.Close())
	})
	return err
}
