//go:build linux

package tcpdropreceiver

import (
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/kallsyms"
	"github.com/tcpdrop/tcpdrop/internal/probe"
	"go.uber.org/zap"
)

// dropSource is what the receiver needs of the probe; tests give it canned
// events.
type dropSource interface {
	ReadBatch(evs []probe.Event) (int, error)
	Counts() (probe.Counts, error)
	Detach() error
	Close() error
}

// openKernel attaches the probe and loads the names of the running kernel.
// The probe goes first: its error says what privilege or kernel feature is
// missing, before any warning about names.
func openKernel(cfg *Config, countOnly bool, logger *zap.Logger) (dropSource, kernelNames, error) {
	p, err := probe.Open(probe.Options{
		RingBufferSize:     cfg.RingBufferSize,
		WakeupBytes:        cfg.WakeupBytes,
		FlushInterval:      cfg.FlushInterval,
		MaxCounters:        cfg.MaxCounters,
		MaxEventsPerSecond: cfg.MaxLogRecordsPerSecond,
		CountOnly:          countOnly,
	})
	if err != nil {
		return nil, nil, err
	}
	reasons, err := dropreason.FromKernel()
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	if !reasons.Available() {
		logger.Warn("this kernel passes no drop reasons (Linux 5.17+ does): tcp_drop.reason is " + notAvailable)
	}
	symbols, err := kallsyms.LoadFile("/proc/kallsyms")
	if err != nil {
		logger.Warn("kernel symbols unavailable: drop locations are reported as raw addresses", zap.Error(err))
		symbols = nil // a nil Symbolizer reports hex addresses
	}
	symbols.WarnIfRestricted(func(msg string) { logger.Warn(msg) })
	return p, runningKernel{reasons: reasons, symbols: symbols}, nil
}
