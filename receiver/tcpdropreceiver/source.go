//go:build linux

package tcpdropreceiver

import (
	"golang.org/x/sys/unix"

	"go.uber.org/zap"

	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/kallsyms"
	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// dropSource is what the receiver needs of the probe; tests give it canned
// events.
type dropSource interface {
	ReadBatch(evs []probe.Event) (int, error)
	Counts() (probe.Counts, error)
	SetListeners(map[probe.ListenerAddr]uint64) error
	Detach() error
	Close() error
}

// sources is everything the receiver reads: the probe, the names of the
// running kernel, and the host's processes and listening sockets.
type sources struct {
	drops     dropSource
	names     kernelNames
	owners    ownerLookup    // nil: owners are not resolved
	listeners listenerSource // nil: listen queues are not watched
}

// openKernel attaches the probe and loads the names of the running kernel.
// The probe's error comes first: it says what privilege or kernel feature
// is missing, before any complaint about names.
func openKernel(cfg *Config, countOnly bool, logger *zap.Logger) (*sources, error) {
	reasons, reasonsErr := dropreason.FromKernel()
	watch := cfg.ListenQueues.Enabled
	if watch && !canEnterNetworkNamespaces() {
		watch = false
		logger.Warn("tcp_drop: listen-queue overflows are not watched: reading the listeners of every network namespace needs CAP_SYS_ADMIN " +
			"(run as root, or add cap_sys_admin to the binary's capabilities); overflows of completing handshakes are still reported from kfree_skb")
	}
	opts := probe.Options{
		RingBufferSize:     cfg.RingBufferSize,
		WakeupBytes:        cfg.WakeupBytes,
		FlushInterval:      cfg.FlushInterval,
		MaxCounters:        cfg.MaxCounters,
		MaxEventsPerSecond: cfg.MaxLogRecordsPerSecond,
		CountOnly:          countOnly,
		MatchListeners:     watch,
		KernelStack:        cfg.KernelStack,
	}
	if watch && reasonsErr == nil {
		// The watcher counts every overflow from the kernel's own counter;
		// kfree_skb sees only some (see internal/listeners): not twice.
		// Kernels without TCP_LISTEN_OVERFLOW (before 6.16) free those it
		// sees as NOT_SPECIFIED: the program recognises them by their
		// listener's full queue.
		if v, ok := reasons.Value(listenOverflowReason); ok {
			opts.SkipReason = v
		} else {
			opts.SkipQueueFull = true
		}
	}
	p, err := probe.Open(opts)
	if err != nil {
		return nil, err
	}
	if reasonsErr != nil {
		p.Close()
		return nil, reasonsErr
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
	s := &sources{drops: p, names: runningKernel{reasons: reasons, symbols: symbols}}
	if cfg.ResolveOwners {
		s.owners = owners.NewResolver("/proc")
	}
	if watch {
		s.listeners = listeners.NewWatcher("/proc")
	}
	return s, nil
}

// capSysAdmin is CAP_SYS_ADMIN's number (linux/capability.h).
const capSysAdmin = 21

// canEnterNetworkNamespaces tells whether this process may setns(2) into
// other network namespaces: it needs CAP_SYS_ADMIN.
func canEnterNetworkNamespaces() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[capSysAdmin/32].Effective&(1<<(capSysAdmin%32)) != 0
}
