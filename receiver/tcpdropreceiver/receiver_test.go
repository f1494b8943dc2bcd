// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// fakeSource hands out canned batches of events, then waits like the
// probe: until closed, or, once detached, for nothing.
type fakeSource struct {
	batches  chan []probe.Event
	countsMu sync.Mutex
	counts   probe.Counts
	closed   chan struct{}
	once     sync.Once
	detached atomic.Bool
}

func newFakeSource(counts probe.Counts, batches ...[]probe.Event) *fakeSource {
	f := &fakeSource{batches: make(chan []probe.Event, len(batches)), counts: counts, closed: make(chan struct{})}
	for _, b := range batches {
		f.batches <- b
	}
	return f
}

func (f *fakeSource) ReadBatch(evs []probe.Event) (int, error) {
	select {
	case b := <-f.batches:
		return copy(evs, b), nil
	default:
	}
	if f.detached.Load() {
		return 0, nil // a detached probe's ring empties and stays empty
	}
	select {
	case b := <-f.batches:
		return copy(evs, b), nil
	case <-f.closed:
		return 0, probe.ErrClosed
	case <-time.After(10 * time.Millisecond): // a flush interval
		return 0, nil
	}
}

func (f *fakeSource) SetListeners(map[probe.ListenerAddr]uint64) error { return nil }
func (f *fakeSource) ListenersChangedIn() (map[uint32]bool, error)     { return nil, nil }

func (f *fakeSource) Detach() error {
	f.detached.Store(true)
	return nil
}

// TakeCounts hands the counts over once, as the kernel empties its map;
// the loss counters stay, being cumulative.
func (f *fakeSource) TakeCounts() (probe.Counts, error) {
	f.countsMu.Lock()
	defer f.countsMu.Unlock()
	select {
	case <-f.closed:
		return probe.Counts{}, probe.ErrClosed
	default:
		c := f.counts
		f.counts.ByKey = nil
		return c, nil
	}
}

func (f *fakeSource) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// createBoth makes the logs and the metrics receiver of one config, as the
// collector does for a receiver named in two pipelines.
func createBoth(t *testing.T, cfg *Config, logs *consumertest.LogsSink, metrics *consumertest.MetricsSink) (a, b sharedComponent) {
	t.Helper()
	f := NewFactory()
	set := receivertest.NewNopSettings(metadata.Type)
	lr, err := f.CreateLogs(context.Background(), set, cfg, logs)
	require.NoError(t, err)
	mr, err := f.CreateMetrics(context.Background(), set, cfg, metrics)
	require.NoError(t, err)
	return lr.(sharedComponent), mr.(sharedComponent)
}

func TestOneProbeServesBothPipelines(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.CollectionInterval = 100 * time.Millisecond
	logs, metrics := new(consumertest.LogsSink), new(consumertest.MetricsSink)
	lr, mr := createBoth(t, cfg, logs, metrics)
	require.Same(t, lr.dropReceiver, mr.dropReceiver)

	src := newFakeSource(fixtureCounts(), fixtureEvents()[:2], fixtureEvents()[2:])
	opens := 0
	lr.open = func(opts drops.Options, countOnly bool, logger *zap.Logger) (*drops.Engine, error) {
		opens++
		require.False(t, countOnly, "a logs pipeline needs events")
		return drops.New(drops.Sources{Kernel: src, Names: fixture.LoadNames(t, notAvailable)}, opts, logger), nil
	}
	host := componenttest.NewNopHost()
	require.NoError(t, lr.Start(context.Background(), host))
	require.NoError(t, mr.Start(context.Background(), host))
	require.Equal(t, 1, opens)

	require.Eventually(t, func() bool { return logs.LogRecordCount() == 3 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(metrics.AllMetrics()) >= 2 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, lr.Shutdown(context.Background()))
	require.NoError(t, mr.Shutdown(context.Background()))
	require.Equal(t, 3, logs.LogRecordCount(), "exactly the events the source gave")

	md := metrics.AllMetrics()[0]
	require.Equal(t, 12, md.DataPointCount(), "3 tcp_drop.packets points (nc, curl, swapper), 2 tcp_drop.resets points (closed ports, the server) and 1 each of uncounted, lost, shed, filtered, repeated, missed and the collection delay")
}

func TestMetricsOnlyCountsWithoutEvents(t *testing.T) {
	cfg := createDefaultConfig()
	r, err := newDropReceiver(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	r.metrics = new(consumertest.MetricsSink)
	var countOnly bool
	r.open = func(opts drops.Options, co bool, logger *zap.Logger) (*drops.Engine, error) {
		countOnly = co
		return drops.New(drops.Sources{Kernel: newFakeSource(probe.Counts{}), Names: fixture.LoadNames(t, notAvailable)}, opts, logger), nil
	}
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	require.True(t, countOnly, "without a logs pipeline the kernel sends no events")
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestStartFailsWithTheProbesError(t *testing.T) {
	r, err := newDropReceiver(createDefaultConfig(), receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	r.logs = new(consumertest.LogsSink)
	opens := 0
	want := errors.New("tcp_drop: not permitted to load eBPF programs: run as root")
	r.open = func(drops.Options, bool, *zap.Logger) (*drops.Engine, error) {
		opens++
		return nil, want
	}
	require.ErrorIs(t, r.Start(context.Background(), componenttest.NewNopHost()), want)
	require.ErrorIs(t, r.Start(context.Background(), componenttest.NewNopHost()), want)
	require.Equal(t, 1, opens)
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestShutdownWithoutStartAndTwice(t *testing.T) {
	cfg := createDefaultConfig()
	lr, mr := createBoth(t, cfg, new(consumertest.LogsSink), new(consumertest.MetricsSink))
	require.NoError(t, lr.Shutdown(context.Background()))
	require.NoError(t, mr.Shutdown(context.Background()))
	require.NoError(t, lr.Shutdown(context.Background()))
	instancesMu.Lock()
	defer instancesMu.Unlock()
	require.NotContains(t, instances, cfg, "a shut-down instance is forgotten")
}

// TestSlowConsumerDoesNotBlockShutdown: a push stuck in the pipeline is
// cancelled by Shutdown.
func TestSlowConsumerDoesNotBlockShutdown(t *testing.T) {
	r, err := newDropReceiver(createDefaultConfig(), receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	r.drainTimeout = 50 * time.Millisecond
	pushed := make(chan struct{})
	r.logs = blockingLogs{pushed: pushed, once: new(sync.Once)}
	r.open = func(opts drops.Options, _ bool, logger *zap.Logger) (*drops.Engine, error) {
		return drops.New(drops.Sources{Kernel: newFakeSource(probe.Counts{}, fixtureEvents()), Names: fixture.LoadNames(t, notAvailable)}, opts, logger), nil
	}
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	<-pushed
	require.NoError(t, r.Shutdown(context.Background()))
}

// failingSource fails its first read, as a record the probe cannot decode
// would, then behaves like src.
type failingSource struct {
	*fakeSource
	failed bool
}

func (f *failingSource) ReadBatch(evs []probe.Event) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("tcp_drop: event record with an address family other than 4 or 6")
	}
	return f.fakeSource.ReadBatch(evs)
}

// TestReadErrorIsLoggedAndReadingGoesOn: a failed read is reported, never
// silent, and the events after it still arrive.
func TestReadErrorIsLoggedAndReadingGoesOn(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.FlushInterval = time.Millisecond
	set := receivertest.NewNopSettings(metadata.Type)
	core, logged := observer.New(zap.ErrorLevel)
	set.Logger = zap.New(core)
	r, err := newDropReceiver(cfg, set)
	require.NoError(t, err)
	sink := new(consumertest.LogsSink)
	r.logs = sink
	r.open = func(opts drops.Options, _ bool, logger *zap.Logger) (*drops.Engine, error) {
		return drops.New(drops.Sources{Kernel: &failingSource{fakeSource: newFakeSource(probe.Counts{}, fixtureEvents())}, Names: fixture.LoadNames(t, notAvailable)}, opts, logger), nil
	}
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 3 }, 10*time.Second, time.Millisecond)
	require.NoError(t, r.Shutdown(context.Background()))
	require.Equal(t, 1, logged.FilterMessage("tcp_drop: reading drop events").Len())
}
