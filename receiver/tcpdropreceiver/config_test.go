// SPDX-License-Identifier: Apache-2.0

package tcpdropreceiver

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, cfg.Validate())
	require.Equal(t, 10*time.Second, cfg.CollectionInterval)
	require.Equal(t, 8<<20, cfg.RingBufferSize)
	require.True(t, cfg.Metrics.TCPDropPackets.Enabled)
	require.Len(t, cfg.Metrics.TCPDropPackets.EnabledAttributes, 3, "network.connection.state is opt-in")
	require.NotContains(t, cfg.Metrics.TCPDropPackets.EnabledAttributes, metadata.TCPDropPacketsMetricAttributeKeyNetworkConnectionState)
	require.True(t, cfg.Metrics.TCPDropEventsFiltered.Enabled)
	require.Equal(t, drops.DefaultExcludeReasons, cfg.Logs.ExcludeReasons)
	require.Empty(t, cfg.Logs.IncludeReasons)
	require.Empty(t, cfg.Logs.Ports)
	ra := cfg.ResourceAttributes
	require.True(t, ra.ProcessPid.Enabled && ra.ProcessExecutableName.Enabled && ra.ProcessLinuxCgroup.Enabled && ra.ContainerID.Enabled && ra.K8sPodUID.Enabled,
		"every owner attribute is on by default")
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	for _, tc := range []struct {
		id   string
		want func(*Config)
	}{
		{"tcp_drop", func(*Config) {}},
		{"tcp_drop/tuned", func(c *Config) {
			c.CollectionInterval = 2 * time.Second
			c.RingBufferSize = 1 << 20
			c.WakeupBytes = 4096
			c.FlushInterval = 20 * time.Millisecond
			c.MaxCounters = 1024
			c.MaxLogRecordsPerSecond = 0
			c.ResolveOwners = false
			c.KernelStack = true
			c.ListenQueues = ListenQueuesConfig{Enabled: false, PollInterval: 5 * time.Second}
			c.Logs = LogsConfig{
				ExcludeReasons: []string{"QUEUE_PURGE", "TCP_OLD_DATA", "TCP_CLOSE"},
				IncludeReasons: []string{"NETFILTER_DROP", "NO_SOCKET"},
				Ports:          []int{80, 443},
			}
			c.Metrics.TCPDropPackets.EnabledAttributes = []metadata.TCPDropPacketsMetricAttributeKey{
				metadata.TCPDropPacketsMetricAttributeKeyTCPDropReason,
				metadata.TCPDropPacketsMetricAttributeKeyNetworkConnectionState,
			}
			c.Metrics.TCPDropEventsShed.Enabled = false
			c.Metrics.TCPDropEventsFiltered.Enabled = false
		}},
		// The benign set switched off: every drop logged.
		{"tcp_drop/log_everything", func(c *Config) { c.Logs.ExcludeReasons = []string{} }},
	} {
		t.Run(tc.id, func(t *testing.T) {
			sub, err := cm.Sub(tc.id)
			require.NoError(t, err)
			got := createDefaultConfig()
			require.NoError(t, sub.Unmarshal(got))
			require.NoError(t, got.Validate())

			want := createDefaultConfig()
			tc.want(want)
			requireSameConfig(t, want, got)
		})
	}
}

// TestConfigRejects: every bad value is rejected by an error that names the
// key and the allowed range.
func TestConfigRejects(t *testing.T) {
	ringRange := fmt.Sprintf("power of two from %d (the page size) to 1073741824", minRingBufferSize())
	for _, tc := range []struct {
		change func(*Config)
		want   []string
	}{
		{func(c *Config) { c.CollectionInterval = 10 * time.Millisecond }, []string{"collection_interval", "100ms..1h0m0s"}},
		{func(c *Config) { c.CollectionInterval = 2 * time.Hour }, []string{"collection_interval", "100ms..1h0m0s"}},
		{func(c *Config) { c.RingBufferSize = 3 << 20 }, []string{"ring_buffer_size", ringRange}},
		{func(c *Config) { c.RingBufferSize = 2048 }, []string{"ring_buffer_size", ringRange}},
		{func(c *Config) { c.RingBufferSize = 2 << 30 }, []string{"ring_buffer_size", ringRange}},
		{func(c *Config) { c.WakeupBytes = -1 }, []string{"wakeup_bytes", "0..ring_buffer_size"}},
		{func(c *Config) { c.WakeupBytes = 16 << 20 }, []string{"wakeup_bytes", "0..ring_buffer_size (8388608)"}},
		{func(c *Config) { c.FlushInterval = 0 }, []string{"flush_interval", "1ms..10s"}},
		{func(c *Config) { c.FlushInterval = time.Minute }, []string{"flush_interval", "1ms..10s"}},
		{func(c *Config) { c.MaxCounters = 0 }, []string{"max_counters", "1..1048576"}},
		{func(c *Config) { c.MaxCounters = 1 << 21 }, []string{"max_counters", "1..1048576"}},
		{func(c *Config) { c.SeriesExpiry = -time.Second }, []string{"series_expiry", "-1s is outside 1s..720h0m0s; 0 means never"}},
		{func(c *Config) { c.SeriesExpiry = time.Millisecond }, []string{"series_expiry", "1ms is outside 1s..720h0m0s"}},
		{func(c *Config) { c.SeriesExpiry = 31 * 24 * time.Hour }, []string{"series_expiry", "1s..720h0m0s"}},
		{func(c *Config) { c.MaxLogRecordsPerSecond = -1 }, []string{"max_log_records_per_second", "0..100000000"}},
		{func(c *Config) { c.MaxLogRecordsPerSecond = 200_000_000 }, []string{"max_log_records_per_second", "200000000 is outside 0..100000000; 0 means no limit"}},
		{func(c *Config) { c.LogRecordsPerKey = -1 }, []string{"log_records_per_key", "0..1000000"}},
		{func(c *Config) { c.LogRecordsPerKey = 2_000_000 }, []string{"log_records_per_key", "0..1000000"}},
		{func(c *Config) { c.ListenQueues.PollInterval = 0 }, []string{"listen_queues::poll_interval", "100ms..1m0s"}},
		{func(c *Config) { c.ListenQueues.PollInterval = time.Hour }, []string{"listen_queues::poll_interval", "100ms..1m0s"}},
		{func(c *Config) { c.Logs.Ports = []int{80, 0} }, []string{"logs::ports", "0 is not a TCP port (1..65535)"}},
		{func(c *Config) { c.Logs.Ports = []int{65536} }, []string{"logs::ports", "65536 is not a TCP port"}},
	} {
		cfg := createDefaultConfig()
		tc.change(cfg)
		err := cfg.Validate()
		require.Error(t, err)
		for _, w := range tc.want {
			require.Containsf(t, err.Error(), w, "error %q does not mention %q", err, w)
		}
	}
}

// TestConfigTakesTheRangesEdges: each range's ends, and the 0s that mean
// something, are valid.
func TestConfigTakesTheRangesEdges(t *testing.T) {
	for _, change := range []func(*Config){
		func(c *Config) { c.CollectionInterval = minCollectionInterval },
		func(c *Config) { c.CollectionInterval = maxCollectionInterval },
		func(c *Config) { c.RingBufferSize = minRingBufferSize() },
		func(c *Config) { c.RingBufferSize = maxRingBufferSize },
		func(c *Config) { c.WakeupBytes = c.RingBufferSize },
		func(c *Config) { c.SeriesExpiry = 0 },
		func(c *Config) { c.SeriesExpiry = minSeriesExpiry },
		func(c *Config) { c.SeriesExpiry = maxSeriesExpiry },
		func(c *Config) { c.MaxLogRecordsPerSecond, c.LogRecordsPerKey = 0, 0 },
		func(c *Config) { c.ListenQueues = ListenQueuesConfig{Enabled: false, PollInterval: 0} },
		func(c *Config) { c.Logs.Ports = []int{1, 65535} },
	} {
		cfg := createDefaultConfig()
		change(cfg)
		require.NoError(t, cfg.Validate())
	}
}

// TestEngineGetsEveryKey: the defaults are the engine's, and every key
// reaches the engine's option of the same name as set.
func TestEngineGetsEveryKey(t *testing.T) {
	require.Equal(t, drops.DefaultOptions(), createDefaultConfig().engineOptions())

	cfg := createDefaultConfig()
	cfg.KernelStack = true
	cfg.WakeupBytes = 4096
	cfg.Logs = LogsConfig{ExcludeReasons: []string{"TCP_CLOSE"}, IncludeReasons: []string{"NO_SOCKET"}, Ports: []int{80}}
	opts := reflect.ValueOf(cfg.engineOptions())
	for i := range opts.NumField() {
		name := opts.Type().Field(i).Name
		require.Falsef(t, opts.Field(i).IsZero(), "drops.Options.%s is not set from the config", name)
		// The nested structs differ in type, not in fields: compare them printed.
		want := fmt.Sprintf("%+v", reflect.ValueOf(*cfg).FieldByName(name))
		require.Equalf(t, want, fmt.Sprintf("%+v", opts.Field(i)), "drops.Options.%s", name)
	}
}

func TestConfigRejectsUnknownMetricAttribute(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Metrics.TCPDropPackets.EnabledAttributes = []metadata.TCPDropPacketsMetricAttributeKey{"tcp_drop.color"}
	err := cfg.Metrics.TCPDropPackets.Validate()
	require.ErrorContains(t, err, "tcp_drop.color")
}

// TestExampleConfigHasTheDefaults: otelcol-config.example.yaml says its
// tcp_drop keys are the defaults; they must be.
func TestExampleConfigHasTheDefaults(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("..", "..", "otelcol-config.example.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub("receivers::tcp_drop")
	require.NoError(t, err)
	got := createDefaultConfig()
	require.NoError(t, sub.Unmarshal(got))
	require.NoError(t, got.Validate())
	requireSameConfig(t, createDefaultConfig(), got)
}

// requireSameConfig compares two configs key by key: the generated metric
// configs also remember which keys the user set, which does not matter.
func requireSameConfig(t *testing.T, want, got *Config) {
	t.Helper()
	require.Equal(t, want.CollectionInterval, got.CollectionInterval)
	require.Equal(t, want.RingBufferSize, got.RingBufferSize)
	require.Equal(t, want.WakeupBytes, got.WakeupBytes)
	require.Equal(t, want.FlushInterval, got.FlushInterval)
	require.Equal(t, want.MaxCounters, got.MaxCounters)
	require.Equal(t, want.MaxLogRecordsPerSecond, got.MaxLogRecordsPerSecond)
	require.Equal(t, want.ResolveOwners, got.ResolveOwners)
	require.Equal(t, want.KernelStack, got.KernelStack)
	require.Equal(t, want.ListenQueues, got.ListenQueues)
	// An empty list and none mean the same: compare the elements.
	require.ElementsMatch(t, want.Logs.ExcludeReasons, got.Logs.ExcludeReasons)
	require.ElementsMatch(t, want.Logs.IncludeReasons, got.Logs.IncludeReasons)
	require.ElementsMatch(t, want.Logs.Ports, got.Logs.Ports)
	require.ElementsMatch(t, want.Metrics.TCPDropPackets.EnabledAttributes, got.Metrics.TCPDropPackets.EnabledAttributes)
	require.Equal(t, want.Metrics.TCPDropEventsShed.Enabled, got.Metrics.TCPDropEventsShed.Enabled)
	require.Equal(t, want.Metrics.TCPDropEventsFiltered.Enabled, got.Metrics.TCPDropEventsFiltered.Enabled)
	w, g := want.ResourceAttributes, got.ResourceAttributes
	for _, pair := range [][2]metadata.ResourceAttributeConfig{
		{w.ProcessPid, g.ProcessPid}, {w.ProcessExecutableName, g.ProcessExecutableName},
		{w.ProcessLinuxCgroup, g.ProcessLinuxCgroup}, {w.ContainerID, g.ContainerID}, {w.K8sPodUID, g.K8sPodUID},
	} {
		require.Equal(t, pair[0].Enabled, pair[1].Enabled)
	}
}

// TestConfigRefusesBentNumbers: a number the decoder would bend into an
// integer key (a fraction truncated, a number too large wrapped to
// -9223372036854775808) is refused, with the key and the value as written.
func TestConfigRefusesBentNumbers(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want string
	}{
		{"ring_buffer_size: 4096.5", "ring_buffer_size: 4096.5 is not a whole number"},
		{"max_counters: 100.7", "max_counters: 100.7 is not a whole number"},
		{"wakeup_bytes: 0.5", "wakeup_bytes: 0.5 is not a whole number"},
		{"max_log_records_per_second: 1000.5", "max_log_records_per_second: 1000.5 is not a whole number"},
		{"flush_interval: 1000000.5", "flush_interval: 1000000.5 is not a whole number"},
		{"listen_queues:\n  poll_interval: 100000000.5", "listen_queues::poll_interval: 100000000.5 is not a whole number"},
		{"ring_buffer_size: 9223372036854775808", "ring_buffer_size: 9223372036854775808 is too large for an integer"},
		{"max_counters: 18446744073709551615", "max_counters: 18446744073709551615 is too large for an integer"},
		{"max_log_records_per_second: 1e30", "max_log_records_per_second: 1e+30 is too large for an integer"},
		{"collection_interval: 100000000000000000000", "collection_interval: 100000000000000000000 is too large for an integer"},
		{"logs:\n  ports: [80, 443.5]", "logs::ports: 443.5 is not a whole number"},
		{"logs:\n  ports: [1e30]", "logs::ports: 1e+30 is too large for an integer"},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			cm, err := confmap.NewRetrievedFromYAML([]byte(tc.yaml))
			require.NoError(t, err)
			conf, err := cm.AsConf()
			require.NoError(t, err)
			cfg := createDefaultConfig()
			err = conf.Unmarshal(cfg)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "-9223372036854775808")
		})
	}
}

// TestConfigTakesWholeNumbers: integers, also written as a float without a
// fraction, and durations as numbers of nanoseconds, decode as before.
func TestConfigTakesWholeNumbers(t *testing.T) {
	cm, err := confmap.NewRetrievedFromYAML([]byte("ring_buffer_size: 65536.0\nmax_counters: 100\nflush_interval: 20000000\nlisten_queues:\n  poll_interval: 2s\n"))
	require.NoError(t, err)
	conf, err := cm.AsConf()
	require.NoError(t, err)
	cfg := createDefaultConfig()
	require.NoError(t, conf.Unmarshal(cfg))
	require.Equal(t, 65536, cfg.RingBufferSize)
	require.Equal(t, 100, cfg.MaxCounters)
	require.Equal(t, 20*time.Millisecond, cfg.FlushInterval)
	require.Equal(t, 2*time.Second, cfg.ListenQueues.PollInterval)
}
