// SPDX-License-Identifier: Apache-2.0

package drops

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Options are the engine's settings, one per configuration key of the
// tcp_drop receiver, under the key's name (the mapstructure tags): the
// receiver's Config embeds them. Their defaults are DefaultOptions, their
// ranges those Check names; both are written only here (the kernel
// program's defaults come from internal/probe, which the C file's map sizes
// only stand in for).
type Options struct {
	// CollectionInterval is how often the exact counts are collected
	// (Outputs.Counts).
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
	// RingBufferSize is the size in bytes of the kernel-to-collector event
	// ring: a power of two, at least the page size.
	RingBufferSize int `mapstructure:"ring_buffer_size"`
	// WakeupBytes is how much unread data in the ring wakes the reader;
	// 0 means RingBufferSize/16.
	WakeupBytes int `mapstructure:"wakeup_bytes"`
	// FlushInterval bounds how long an event waits in a quiet ring.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// MaxCounters is how many (socket, reason, location) counters the
	// kernel keeps between two collections.
	MaxCounters int `mapstructure:"max_counters"`
	// SeriesExpiry is how long a cumulative series of tcp_drop.packets that
	// does not grow is still reported (its owner has likely exited); 0
	// keeps every series for good. One that grows again starts from zero,
	// with a new start time.
	SeriesExpiry time.Duration `mapstructure:"series_expiry"`
	// MaxLogRecordsPerSecond limits the drop events the kernel sends (each
	// becomes a log record), so a flood costs only the counting. Events
	// above it are counted in Counts.Shed; the counts stay exact. 0 means
	// no limit.
	MaxLogRecordsPerSecond int `mapstructure:"max_log_records_per_second"`
	// LogRecordsPerKey is how many drops of each count key (socket, reason,
	// location, TCP state, the filters' verdict), on each CPU, in each
	// collection interval become log records; the later ones, repeats, are
	// only counted, and the collection hands each key's number out as a
	// Repeat (Outputs.Repeats). 0: every drop, up to
	// MaxLogRecordsPerSecond, which stays the ceiling.
	LogRecordsPerKey int `mapstructure:"log_records_per_key"`
	// ResolveOwners names the process that owns each drop's socket, by
	// reading /proc/<pid>/fd (see internal/owners).
	ResolveOwners bool `mapstructure:"resolve_owners"`
	// ListenQueues watches every listening socket for listen-queue
	// overflows, which kfree_skb does not see.
	ListenQueues ListenQueues `mapstructure:"listen_queues"`
	// KernelStack adds the kernel stack to each drop. Off by default: it
	// costs a stack walk per event in the kernel and makes each event about
	// three times larger.
	KernelStack bool `mapstructure:"kernel_stack"`
	// Logs selects the drops that become log records; every drop is still
	// counted (see LogFilters).
	Logs LogFilters `mapstructure:"logs"`
}

// LogFilters select, in the kernel, which drops are sent as events (and
// become log records), and in the engine which listen-queue overflows do
// (overflowFilter). A drop they leave out is counted like every other, and
// once more in Counts.Filtered, so that records + lost + shed + filtered =
// packets. Names are the kernel's (enum skb_drop_reason, without
// SKB_DROP_REASON_), checked against its BTF at start (see filter.go).
type LogFilters struct {
	// ExcludeReasons are reasons whose drops are not logged. Default:
	// DefaultExcludeReasons; [] logs them all.
	ExcludeReasons []string `mapstructure:"exclude_reasons"`
	// IncludeReasons, when not empty, are the only reasons logged (less
	// ExcludeReasons).
	IncludeReasons []string `mapstructure:"include_reasons"`
	// Ports, when not empty, are the only TCP ports whose drops are logged:
	// the packet's source or destination port, so local or remote.
	Ports []int `mapstructure:"ports"`
}

// DefaultExcludeReasons is the benign set (docs/benign-reasons.md): what
// ordinary traffic and an idle machine drop as part of TCP working as
// designed. QUEUE_PURGE: the queues of a closing socket, purged (every
// close of a connection with a FIN still queued; 6.8+). TCP_OLD_DATA: a
// retransmitted segment whose data was already received (a duplicate).
var DefaultExcludeReasons = []string{"QUEUE_PURGE", "TCP_OLD_DATA"}

// ListenQueues configures the listen-queue watcher.
type ListenQueues struct {
	Enabled bool `mapstructure:"enabled"`
	// PollInterval is how often every listener's queue and the kernel's
	// overflow counters are read: the latency of an overflow's record.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// DefaultOptions are the defaults of every option.
func DefaultOptions() Options {
	return Options{
		CollectionInterval:     10 * time.Second,
		RingBufferSize:         probe.DefaultRingBufferSize,
		FlushInterval:          probe.DefaultFlushInterval,
		MaxCounters:            probe.DefaultMaxCounters,
		SeriesExpiry:           15 * time.Minute,
		MaxLogRecordsPerSecond: 200_000,
		LogRecordsPerKey:       DefaultLogRecordsPerKey,
		ResolveOwners:          true,
		ListenQueues:           ListenQueues{Enabled: true, PollInterval: time.Second},
		Logs:                   LogFilters{ExcludeReasons: slices.Clone(DefaultExcludeReasons)},
	}
}

// DefaultLogRecordsPerKey keeps a flood's records to a few per key and
// interval, the rest in one summary record (docs/cost.md: measured, a flood
// then costs the dropping CPUs what counting does).
const DefaultLogRecordsPerKey = 10

// The allowed ranges, named in every error of Check.
const (
	MinCollectionInterval     = 100 * time.Millisecond
	MaxCollectionInterval     = time.Hour
	MaxRingBufferSize         = 1 << 30
	MinFlushInterval          = time.Millisecond
	MaxFlushInterval          = 10 * time.Second
	MaxMaxCounters            = 1 << 20
	MinSeriesExpiry           = time.Second
	MaxSeriesExpiry           = 30 * 24 * time.Hour
	MaxMaxLogRecordsPerSecond = 100_000_000
	MaxLogRecordsPerKey       = 1_000_000
	MinListenPollInterval     = 100 * time.Millisecond
	MaxListenPollInterval     = time.Minute
)

// MinRingBufferSize is the smallest ring the kernel takes: one page, which
// is 4096 bytes on x86 but can be 16 or 64 KiB on arm64. A power of two at
// least this large is also a multiple of the page size.
func MinRingBufferSize() int { return max(4096, os.Getpagesize()) }

// Check checks every option and names the key and the allowed range of a
// bad one. (Not Validate: the collector validates the fields of a
// configuration as well as the configuration, and would say it twice.)
func (o Options) Check() error {
	var errs []error
	if o.CollectionInterval < MinCollectionInterval || o.CollectionInterval > MaxCollectionInterval {
		errs = append(errs, fmt.Errorf("collection_interval: %v is outside %v..%v", o.CollectionInterval, MinCollectionInterval, MaxCollectionInterval))
	}
	if minRing := MinRingBufferSize(); o.RingBufferSize < minRing || o.RingBufferSize > MaxRingBufferSize || o.RingBufferSize&(o.RingBufferSize-1) != 0 {
		errs = append(errs, fmt.Errorf("ring_buffer_size: %d must be a power of two from %d (the page size) to %d bytes", o.RingBufferSize, minRing, MaxRingBufferSize))
	}
	if o.WakeupBytes < 0 || o.WakeupBytes > o.RingBufferSize {
		errs = append(errs, fmt.Errorf("wakeup_bytes: %d is outside 0..ring_buffer_size (%d); 0 means ring_buffer_size/16", o.WakeupBytes, o.RingBufferSize))
	}
	if o.FlushInterval < MinFlushInterval || o.FlushInterval > MaxFlushInterval {
		errs = append(errs, fmt.Errorf("flush_interval: %v is outside %v..%v", o.FlushInterval, MinFlushInterval, MaxFlushInterval))
	}
	if o.MaxCounters < 1 || o.MaxCounters > MaxMaxCounters {
		errs = append(errs, fmt.Errorf("max_counters: %d is outside 1..%d", o.MaxCounters, MaxMaxCounters))
	}
	if o.SeriesExpiry != 0 && (o.SeriesExpiry < MinSeriesExpiry || o.SeriesExpiry > MaxSeriesExpiry) {
		errs = append(errs, fmt.Errorf("series_expiry: %v is outside %v..%v; 0 means never", o.SeriesExpiry, MinSeriesExpiry, MaxSeriesExpiry))
	}
	if o.MaxLogRecordsPerSecond < 0 || o.MaxLogRecordsPerSecond > MaxMaxLogRecordsPerSecond {
		errs = append(errs, fmt.Errorf("max_log_records_per_second: %d is outside 0..%d; 0 means no limit", o.MaxLogRecordsPerSecond, MaxMaxLogRecordsPerSecond))
	}
	if o.LogRecordsPerKey < 0 || o.LogRecordsPerKey > MaxLogRecordsPerKey {
		errs = append(errs, fmt.Errorf("log_records_per_key: %d is outside 0..%d; 0 means no limit", o.LogRecordsPerKey, MaxLogRecordsPerKey))
	}
	if o.ListenQueues.Enabled && (o.ListenQueues.PollInterval < MinListenPollInterval || o.ListenQueues.PollInterval > MaxListenPollInterval) {
		errs = append(errs, fmt.Errorf("listen_queues::poll_interval: %v is outside %v..%v", o.ListenQueues.PollInterval, MinListenPollInterval, MaxListenPollInterval))
	}
	for _, p := range o.Logs.Ports {
		if p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("logs::ports: %d is not a TCP port (1..65535)", p))
		}
	}
	return errors.Join(errs...)
}

// probeOptions are the kernel program's options for o.
func (o Options) probeOptions(countOnly, matchListeners bool) probe.Options {
	return probe.Options{
		RingBufferSize:         o.RingBufferSize,
		WakeupBytes:            o.WakeupBytes,
		FlushInterval:          o.FlushInterval,
		MaxCounters:            o.MaxCounters,
		MaxLogRecordsPerSecond: o.MaxLogRecordsPerSecond,
		LogRecordsPerKey:       o.LogRecordsPerKey,
		CountOnly:              countOnly,
		MatchListeners:         matchListeners,
		SocketBirths:           o.ResolveOwners,
		KernelStack:            o.KernelStack,
	}
}
