package tcpdropreceiver

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// Config is the tcp_drop receiver's configuration. Every key has a default;
// `tcp_drop:` alone is a working configuration.
type Config struct {
	// CollectionInterval is how often the exact counts are emitted as
	// metrics.
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
	// RingBufferSize is the size in bytes of the kernel-to-collector event
	// ring: a power of two, at least the page size (and 4096).
	RingBufferSize int `mapstructure:"ring_buffer_size"`
	// WakeupBytes is how much unread data in the ring wakes the collector;
	// 0 means RingBufferSize/16.
	WakeupBytes int `mapstructure:"wakeup_bytes"`
	// FlushInterval bounds how long an event waits in a quiet ring.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// MaxCounters is how many (socket, process, reason, location) counters the
	// kernel keeps.
	MaxCounters int `mapstructure:"max_counters"`
	// MaxLogRecordsPerSecond limits the drop events sent as log records,
	// in the kernel, so a flood costs only the counting. Events above it
	// are counted in tcp_drop.events.shed; the metrics stay exact. 0 means
	// no limit.
	MaxLogRecordsPerSecond int `mapstructure:"max_log_records_per_second"`
	// ResolveOwners names the process that owns each drop's socket, by
	// reading /proc/<pid>/fd (see internal/owners).
	ResolveOwners bool `mapstructure:"resolve_owners"`
	// ListenQueues watches every listening socket for listen-queue
	// overflows, which kfree_skb does not see.
	ListenQueues ListenQueuesConfig `mapstructure:"listen_queues"`
	// KernelStack adds the kernel stack of each drop to its log record.
	// Off by default: it costs a stack walk per event in the kernel and
	// makes each event about three times larger.
	KernelStack bool `mapstructure:"kernel_stack"`

	metadata.MetricsBuilderConfig `mapstructure:",squash"`
}

// ListenQueuesConfig configures the listen-queue watcher.
type ListenQueuesConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// PollInterval is how often every listener's queue and the kernel's
	// overflow counters are read: the latency of an overflow's record.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// The allowed ranges, named in every validation error.
const (
	minCollectionInterval = 100 * time.Millisecond
	maxCollectionInterval = time.Hour
	maxRingBufferSize     = 1 << 30
	minFlushInterval      = time.Millisecond
	maxFlushInterval      = 10 * time.Second
	maxMaxCounters        = 1 << 20
	maxLogRecordsLimit    = 100_000_000
	minListenPoll         = 100 * time.Millisecond
	maxListenPoll         = time.Minute
)

// minRingBufferSize is the smallest ring the kernel takes: one page, which
// is 4096 bytes on x86 but can be 16 or 64 KiB on arm64. A power of two at
// least this large is also a multiple of the page size.
func minRingBufferSize() int { return max(4096, os.Getpagesize()) }

func createDefaultConfig() *Config {
	return &Config{
		CollectionInterval:     10 * time.Second,
		RingBufferSize:         8 << 20,
		FlushInterval:          100 * time.Millisecond,
		MaxCounters:            16384,
		MaxLogRecordsPerSecond: 200_000,
		ResolveOwners:          true,
		ListenQueues:           ListenQueuesConfig{Enabled: true, PollInterval: time.Second},
		MetricsBuilderConfig:   metadata.DefaultMetricsBuilderConfig(),
	}
}

// Validate checks every key and names the allowed range of a bad one.
func (c *Config) Validate() error {
	var errs []error
	if c.CollectionInterval < minCollectionInterval || c.CollectionInterval > maxCollectionInterval {
		errs = append(errs, fmt.Errorf("collection_interval: %v is outside %v..%v", c.CollectionInterval, minCollectionInterval, maxCollectionInterval))
	}
	if minRing := minRingBufferSize(); c.RingBufferSize < minRing || c.RingBufferSize > maxRingBufferSize || c.RingBufferSize&(c.RingBufferSize-1) != 0 {
		errs = append(errs, fmt.Errorf("ring_buffer_size: %d must be a power of two from %d (the page size) to %d bytes", c.RingBufferSize, minRing, maxRingBufferSize))
	}
	if c.WakeupBytes < 0 || c.WakeupBytes > c.RingBufferSize {
		errs = append(errs, fmt.Errorf("wakeup_bytes: %d is outside 0..ring_buffer_size (%d); 0 means ring_buffer_size/16", c.WakeupBytes, c.RingBufferSize))
	}
	if c.FlushInterval < minFlushInterval || c.FlushInterval > maxFlushInterval {
		errs = append(errs, fmt.Errorf("flush_interval: %v is outside %v..%v", c.FlushInterval, minFlushInterval, maxFlushInterval))
	}
	if c.MaxCounters < 1 || c.MaxCounters > maxMaxCounters {
		errs = append(errs, fmt.Errorf("max_counters: %d is outside 1..%d", c.MaxCounters, maxMaxCounters))
	}
	if c.MaxLogRecordsPerSecond < 0 || c.MaxLogRecordsPerSecond > maxLogRecordsLimit {
		errs = append(errs, fmt.Errorf("max_log_records_per_second: %d is outside 0..%d; 0 means no limit", c.MaxLogRecordsPerSecond, maxLogRecordsLimit))
	}
	if c.ListenQueues.Enabled && (c.ListenQueues.PollInterval < minListenPoll || c.ListenQueues.PollInterval > maxListenPoll) {
		errs = append(errs, fmt.Errorf("listen_queues::poll_interval: %v is outside %v..%v", c.ListenQueues.PollInterval, minListenPoll, maxListenPoll))
	}
	return errors.Join(errs...)
}
