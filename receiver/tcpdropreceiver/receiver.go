// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/hostname"
)

// transport names the receiver's source and data format in the
// collector's own telemetry.
const transport = "ebpf"

// drainTimeout bounds how long Shutdown waits for a stuck pipeline when the
// collector gives it no deadline of its own.
const drainTimeout = 5 * time.Second

// dropReceiver serves a logs pipeline, a metrics pipeline, or both, from
// one engine (internal/drops), whose values it maps to pdata and pushes.
type dropReceiver struct {
	cfg *Config
	set receiver.Settings

	logs    consumer.Logs             // nil without a logs pipeline
	metrics consumer.Metrics          // nil without a metrics pipeline
	obs     *receiverhelper.ObsReport // counts accepted and refused records

	// open attaches the engine to the kernel; tests replace it.
	open         func(opts drops.Options, countOnly bool, logger *zap.Logger) (*drops.Engine, error)
	drainTimeout time.Duration

	startOnce    sync.Once
	startErr     error
	shutdownOnce sync.Once

	engine     *drops.Engine
	pushCtx    context.Context // ends pushes stuck in the pipeline at shutdown
	cancelPush context.CancelFunc
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
	drops.MarkStart()
	return &dropReceiver{cfg: cfg, set: set, obs: obs, open: drops.Open, drainTimeout: drainTimeout}, nil
}

// Start attaches the probe once, whichever pipeline starts first, and
// starts reading. It fails, and so does the collector, when the kernel
// program cannot be loaded; the error says what is missing.
func (r *dropReceiver) Start(_ context.Context, _ component.Host) error {
	r.startOnce.Do(func() { r.startErr = r.start() })
	return r.startErr
}

func (r *dropReceiver) start() error {
	engine, err := r.open(r.cfg.engineOptions(), r.logs == nil, r.set.Logger)
	if err != nil {
		return err
	}
	r.engine = engine
	// Background work must outlive Start's context.
	r.pushCtx, r.cancelPush = context.WithCancel(context.Background())
	host := r.hostName()
	var out drops.Outputs
	if r.logs != nil {
		version, resources := r.set.BuildInfo.Version, newResources(r.cfg.ResourceAttributes, host)
		out.Drops = r.pushDrops(newLogConverter(version, resources))
		out.Overflows = r.pushOverflows(overflowConverter{logs: newLogConverter(version, resources)})
		out.Repeats = r.pushRepeats(repeatConverter{logs: newLogConverter(version, resources)})
	}
	if r.metrics != nil {
		out.Counts = r.pushCounts(newMetricsConverter(r.cfg.MetricsBuilderConfig, r.set, host, time.Now()))
	}
	engine.Start(out)
	r.set.Logger.Info("tcp_drop: attached to the kfree_skb tracepoint",
		zap.Bool("logs", r.logs != nil), zap.Bool("metrics", r.metrics != nil),
		zap.Bool("owners", engine.ResolvesOwners()), zap.Bool("listen_queues", engine.WatchesListenQueues()))
	return nil
}

// hostName is host.name for every Resource: the node's hostname, also
// from a container that sees the host's processes (internal/hostname).
func (r *dropReceiver) hostName() string {
	if !r.cfg.ResourceAttributes.HostName.Enabled {
		return ""
	}
	host, err := hostname.Node()
	if err != nil {
		r.set.Logger.Warn("tcp_drop: host.name may not be the node's", zap.Error(err))
	}
	return host
}

// pushDrops pushes every batch of drops as one plog.Logs. A slow consumer
// holds the engine's reading up; the kernel then counts what the full ring
// could not take in tcp_drop.events.lost.
func (r *dropReceiver) pushDrops(conv *logConverter) func([]drops.Drop) {
	return func(batch []drops.Drop) {
		r.pushLogs(conv.convert(batch, time.Now()), len(batch))
	}
}

// pushLogs hands logs, made of n items, to the logs pipeline, reported to
// the collector's own telemetry as one operation.
func (r *dropReceiver) pushLogs(logs plog.Logs, n int) {
	opCtx := r.obs.StartLogsOp(r.pushCtx)
	err := r.logs.ConsumeLogs(opCtx, logs)
	r.obs.EndLogsOp(opCtx, transport, n, err)
}

// pushOverflows pushes the overflows of one listen-queue poll.
func (r *dropReceiver) pushOverflows(conv overflowConverter) func([]drops.Overflow) {
	return func(found []drops.Overflow) {
		r.pushLogs(conv.convert(found, time.Now()), len(found))
	}
}

// pushRepeats pushes one collection's summary records of repeats.
func (r *dropReceiver) pushRepeats(conv repeatConverter) func([]drops.Repeat) {
	return func(reps []drops.Repeat) {
		r.pushLogs(conv.convert(reps, time.Now()), len(reps))
	}
}

// pushCounts pushes one collection of the counts.
func (r *dropReceiver) pushCounts(conv *metricsConverter) func(drops.Counts, []drops.Listener, time.Time) {
	return func(c drops.Counts, ls []drops.Listener, now time.Time) {
		md := conv.convert(c, ls, now)
		opCtx := r.obs.StartMetricsOp(r.pushCtx)
		err := r.metrics.ConsumeMetrics(opCtx, md)
		r.obs.EndMetricsOp(opCtx, transport, md.DataPointCount(), err)
	}
}

// Shutdown stops the engine, which detaches the probe, so that no new drop
// arrives, and hands out the drops still in the ring and the final counts
// (losses included), then unloads the probe. A pipeline that does not take
// them within the collector's deadline, or drainTimeout, gets its pushes
// cancelled. It is safe without Start and more than once.
func (r *dropReceiver) Shutdown(ctx context.Context) error {
	var err error
	r.shutdownOnce.Do(func() {
		if r.engine == nil {
			return
		}
		deadline, cancel := context.WithTimeout(ctx, r.drainTimeout)
		defer cancel()
		stop := context.AfterFunc(deadline, r.cancelPush)
		defer stop()
		err = r.engine.Stop()
		r.cancelPush()
	})
	return err
}
