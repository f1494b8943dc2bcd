//go:build linux

package tcpdropreceiver

import (
	"context"
	"errors"
	"sync"
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

// dropReceiver serves a logs pipeline, a metrics pipeline, or both, from
// one probe.
type dropReceiver struct {
	cfg *Config
	set receiver.Settings

	logs    consumer.Logs             // nil without a logs pipeline
	metrics consumer.Metrics          // nil without a metrics pipeline
	obs     *receiverhelper.ObsReport // counts accepted and refused records

	// open attaches the probe; tests replace it.
	open func(cfg *Config, countOnly bool, logger *zap.Logger) (dropSource, kernelNames, error)

	startOnce    sync.Once
	startErr     error
	shutdownOnce sync.Once
	src          dropSource
	cancel       context.CancelFunc
	wg           sync.WaitGroup
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
	return &dropReceiver{cfg: cfg, set: set, obs: obs, open: openKernel}, nil
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
	src, names, err := r.open(r.cfg, r.logs == nil, logger)
	if err != nil {
		return err
	}
	r.src = src
	// Background work must outlive Start's context.
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	started := time.Now()
	if r.logs != nil {
		r.wg.Add(1)
		go r.readEvents(ctx, newLogConverter(names, r.set.BuildInfo.Version))
	}
	if r.metrics != nil {
		r.wg.Add(1)
		go r.emitMetrics(ctx, newMetricsConverter(r.cfg.MetricsBuilderConfig, r.set, names, started))
	}
	logger.Info("tcp_drop: attached to the kfree_skb tracepoint",
		zap.Bool("logs", r.logs != nil), zap.Bool("metrics", r.metrics != nil))
	return nil
}

// readEvents turns every batch of drop events into one push of log records.
// A slow consumer holds this loop up; the kernel then counts what the full
// ring could not take in tcp_drop.events.lost.
func (r *dropReceiver) readEvents(ctx context.Context, conv *logConverter) {
	defer r.wg.Done()
	events := make([]probe.Event, readBatch)
	for {
		n, err := r.src.ReadBatch(events)
		if n > 0 {
			logs := conv.convert(events[:n], time.Now())
			opCtx := r.obs.StartLogsOp(ctx)
			cerr := r.logs.ConsumeLogs(opCtx, logs)
			r.obs.EndLogsOp(opCtx, transport, n, cerr)
		}
		if errors.Is(err, probe.ErrClosed) {
			return
		}
		if err != nil {
			// The record that failed is gone: say so. A lasting error must
			// not spin the loop, so wait a flush interval before the next read.
			r.set.Logger.Error("tcp_drop: reading drop events", zap.Error(err))
			select {
			case <-ctx.Done():
				return
			case <-time.After(r.cfg.FlushInterval):
			}
		}
	}
}

// emitMetrics pushes the exact counts every collection interval.
func (r *dropReceiver) emitMetrics(ctx context.Context, conv *metricsConverter) {
	defer r.wg.Done()
	ticker := time.NewTicker(r.cfg.CollectionInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			counts, err := r.src.Counts()
			if errors.Is(err, probe.ErrClosed) {
				return
			}
			if err != nil {
				r.set.Logger.Error("tcp_drop: reading the kernel's counts", zap.Error(err))
				continue
			}
			md := conv.convert(counts, now)
			opCtx := r.obs.StartMetricsOp(ctx)
			cerr := r.metrics.ConsumeMetrics(opCtx, md)
			r.obs.EndMetricsOp(opCtx, transport, md.DataPointCount(), cerr)
		}
	}
}

// Shutdown stops reading and detaches the probe. It is safe without Start
// and more than once.
func (r *dropReceiver) Shutdown(context.Context) error {
	var err error
	r.shutdownOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
		}
		if r.src != nil {
			err = r.src.Close() // ends ReadBatch
		}
		r.wg.Wait()
	})
	return err
}
