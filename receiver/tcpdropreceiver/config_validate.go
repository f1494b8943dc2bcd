// SPDX-License-Identifier: Apache-2.0

package tcpdropreceiver

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// The allowed ranges, named in every error of Validate.
const (
	minCollectionInterval     = 100 * time.Millisecond
	maxCollectionInterval     = time.Hour
	maxRingBufferSize         = 1 << 30
	minFlushInterval          = time.Millisecond
	maxFlushInterval          = 10 * time.Second
	maxMaxCounters            = 1 << 20
	minSeriesExpiry           = time.Second
	maxSeriesExpiry           = 30 * 24 * time.Hour
	maxMaxLogRecordsPerSecond = 100_000_000
	maxLogRecordsPerKey       = 1_000_000
	minListenPollInterval     = 100 * time.Millisecond
	maxListenPollInterval     = time.Minute
)

// minRingBufferSize is the smallest ring the kernel takes: one page, which
// is 4096 bytes on x86 but can be 16 or 64 KiB on arm64. A power of two at
// least this large is also a multiple of the page size.
func minRingBufferSize() int { return max(4096, os.Getpagesize()) }

// Validate checks every key and names the key, its value and the allowed
// range of a bad one. It is the only check: the engine and the kernel
// program take the values as given.
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
	if c.SeriesExpiry != 0 && (c.SeriesExpiry < minSeriesExpiry || c.SeriesExpiry > maxSeriesExpiry) {
		errs = append(errs, fmt.Errorf("series_expiry: %v is outside %v..%v; 0 means never", c.SeriesExpiry, minSeriesExpiry, maxSeriesExpiry))
	}
	if c.MaxLogRecordsPerSecond < 0 || c.MaxLogRecordsPerSecond > maxMaxLogRecordsPerSecond {
		errs = append(errs, fmt.Errorf("max_log_records_per_second: %d is outside 0..%d; 0 means no limit", c.MaxLogRecordsPerSecond, maxMaxLogRecordsPerSecond))
	}
	if c.LogRecordsPerKey < 0 || c.LogRecordsPerKey > maxLogRecordsPerKey {
		errs = append(errs, fmt.Errorf("log_records_per_key: %d is outside 0..%d; 0 means no limit", c.LogRecordsPerKey, maxLogRecordsPerKey))
	}
	if c.ListenQueues.Enabled && (c.ListenQueues.PollInterval < minListenPollInterval || c.ListenQueues.PollInterval > maxListenPollInterval) {
		errs = append(errs, fmt.Errorf("listen_queues::poll_interval: %v is outside %v..%v", c.ListenQueues.PollInterval, minListenPollInterval, maxListenPollInterval))
	}
	for _, p := range c.Logs.Ports {
		if p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("logs::ports: %d is not a TCP port (1..65535)", p))
		}
	}
	return errors.Join(errs...)
}
