// SPDX-License-Identifier: Apache-2.0

package tcpdropreceiver

import (
	"time"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// Config is the tcp_drop receiver's configuration: its keys, checked by
// Validate (config_validate.go) and handed to the engine as drops.Options.
// Every key has a default, the engine's (drops.DefaultOptions); `tcp_drop:`
// alone is a working configuration.
type Config struct {
	// CollectionInterval is how often the exact counts are emitted as
	// metrics.
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
	// RingBufferSize is the size in bytes of the kernel-to-collector event
	// ring: a power of two, at least the page size.
	RingBufferSize int `mapstructure:"ring_buffer_size"`
	// WakeupBytes is how much unread data in the ring wakes the collector;
	// 0 means ring_buffer_size/16.
	WakeupBytes int `mapstructure:"wakeup_bytes"`
	// FlushInterval bounds how long a drop waits in a quiet ring.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// MaxCounters is how many (socket, reason, location) counters the
	// kernel keeps between two collections.
	MaxCounters int `mapstructure:"max_counters"`
	// SeriesExpiry is how long a tcp_drop.packets series that does not grow
	// is still reported; 0 keeps every series for good.
	SeriesExpiry time.Duration `mapstructure:"series_expiry"`
	// MaxLogRecordsPerSecond: above it events are shed (counted); the
	// metrics stay exact. 0 means no limit.
	MaxLogRecordsPerSecond int `mapstructure:"max_log_records_per_second"`
	// LogRecordsPerKey is how many records each (socket, reason, location)
	// gets per CPU and collection; the rest go in one summary record.
	// 0 means every drop.
	LogRecordsPerKey int `mapstructure:"log_records_per_key"`
	// ResolveOwners names the process that owns each drop's socket.
	ResolveOwners bool `mapstructure:"resolve_owners"`
	// ListenQueues watches every listener's queue for overflows.
	ListenQueues ListenQueuesConfig `mapstructure:"listen_queues"`
	// KernelStack adds each drop's kernel stack to its log record.
	KernelStack bool `mapstructure:"kernel_stack"`
	// Logs selects the drops that become log records; the metrics count
	// every drop.
	Logs LogsConfig `mapstructure:"logs"`
	// Resets counts the resets this host sends (tcp_drop.resets) and logs
	// them, with the kernel's reason.
	Resets bool `mapstructure:"resets"`
	// Retransmits counts the segments this host sends again
	// (tcp_drop.retransmits) and logs them.
	Retransmits bool `mapstructure:"retransmits"`
	// FailedConnects counts the connects this host makes that fail
	// (tcp_drop.connects.failed) and logs them, with their error.
	FailedConnects bool `mapstructure:"failed_connects"`

	metadata.MetricsBuilderConfig `mapstructure:",squash"`
}

// ListenQueuesConfig is listen_queues: the listen-queue watcher.
type ListenQueuesConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// PollInterval is how often the queues are read: the latency of an
	// overflow's record.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// LogsConfig is logs: the kernel's drop reasons (without SKB_DROP_REASON_)
// and the TCP ports whose drops become log records (drops.LogFilters).
type LogsConfig struct {
	// ExcludeReasons: [] logs every reason.
	ExcludeReasons []string `mapstructure:"exclude_reasons"`
	// IncludeReasons, if set, are the only reasons logged.
	IncludeReasons []string `mapstructure:"include_reasons"`
	// Ports, if set, are the only local or remote ports logged.
	Ports []int `mapstructure:"ports"`
}

func createDefaultConfig() *Config {
	o := drops.DefaultOptions()
	return &Config{
		CollectionInterval:     o.CollectionInterval,
		RingBufferSize:         o.RingBufferSize,
		WakeupBytes:            o.WakeupBytes,
		FlushInterval:          o.FlushInterval,
		MaxCounters:            o.MaxCounters,
		SeriesExpiry:           o.SeriesExpiry,
		MaxLogRecordsPerSecond: o.MaxLogRecordsPerSecond,
		LogRecordsPerKey:       o.LogRecordsPerKey,
		ResolveOwners:          o.ResolveOwners,
		ListenQueues:           ListenQueuesConfig(o.ListenQueues),
		KernelStack:            o.KernelStack,
		Logs:                   LogsConfig(o.Logs),
		Resets:                 o.Resets,
		Retransmits:            o.Retransmits,
		FailedConnects:         o.FailedConnects,
		MetricsBuilderConfig:   metadata.NewDefaultMetricsBuilderConfig(),
	}
}

// engineOptions are the engine's options for c. The nested structs convert
// field for field: one that gains a field the other lacks does not compile.
func (c *Config) engineOptions() drops.Options {
	return drops.Options{
		CollectionInterval:     c.CollectionInterval,
		RingBufferSize:         c.RingBufferSize,
		WakeupBytes:            c.WakeupBytes,
		FlushInterval:          c.FlushInterval,
		MaxCounters:            c.MaxCounters,
		SeriesExpiry:           c.SeriesExpiry,
		MaxLogRecordsPerSecond: c.MaxLogRecordsPerSecond,
		LogRecordsPerKey:       c.LogRecordsPerKey,
		ResolveOwners:          c.ResolveOwners,
		ListenQueues:           drops.ListenQueues(c.ListenQueues),
		KernelStack:            c.KernelStack,
		Logs:                   drops.LogFilters(c.Logs),
		Resets:                 c.Resets,
		Retransmits:            c.Retransmits,
		FailedConnects:         c.FailedConnects,
	}
}
