// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/capability"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/kallsyms"
	"github.com/tcpdrop/tcpdrop/internal/listeners"
	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Open attaches the kernel program to the running kernel and loads the
// kernel's names; countOnly sends no drop events (no one wants them), only
// counts. A bad name in the logs filters comes first (it needs only the
// kernel's BTF), then the program's error: it says what privilege or kernel
// feature is missing, before any complaint about names. The caller
// must Start and Stop the engine, or Stop it.
func Open(opts Options, countOnly bool, logger *zap.Logger) (*Engine, error) {
	reasons, reasonsErr := dropreason.FromKernel()
	watch := canWatchListenQueues(opts, logger)
	p, err := openProbe(opts, countOnly, watch, reasons, logger)
	if err != nil {
		return nil, err
	}
	if reasonsErr != nil {
		p.Close()
		return nil, reasonsErr
	}
	listenErr := p.ListenStateErr()
	if err := listenErr; err != nil {
		logger.Warn("tcp_drop: new listeners are known only from the next listen-queue poll (listen_queues::poll_interval): "+
			"until then packets firewalled on their way to one have no owner", zap.Error(err))
	}
	if !reasons.Available() {
		logger.Warn("this kernel passes no drop reasons (Linux 5.17+ does): tcp_drop.reason is " + NotAvailable)
	}
	resetReasons := resetNames(opts, logger)
	src := Sources{Kernel: p, ListenTableLive: listenErr == nil, NoDropReasons: !reasons.Available(),
		Names: runningKernel{reasons: reasons, resetReasons: resetReasons, symbols: loadSymbols(logger)}}
	if opts.ResolveOwners {
		src.Owners = newOwnerResolver(p, listenErr == nil, logger)
	}
	if watch {
		var closed listeners.ClosedSource
		if listenErr == nil {
			closed = closedListeners(p)
		}
		src.Listeners = listeners.NewWatcher("/proc", closed)
	}
	return New(src, opts, logger), nil
}

// resetNames loads the reset reasons of the running kernel when resets are
// counted, and says what a kernel before 6.10 does not show. The BTF was
// read for the drop reasons just before, so it does not fail here: if it
// does, resets are named NOT_AVAILABLE.
func resetNames(opts Options, logger *zap.Logger) *dropreason.Table {
	if !opts.Resets {
		return &dropreason.Table{}
	}
	t, err := dropreason.ResetsFromKernel()
	if err != nil {
		logger.Warn("tcp_drop: the reset reasons could not be read from the kernel's BTF: the reason of a reset is "+NotAvailable, zap.Error(err))
		return &dropreason.Table{}
	}
	if !t.Available() {
		logger.Warn("this kernel passes no reset reasons and traces no reset sent without a socket (Linux 6.10+ does both): " +
			"the reason of a reset is " + NotAvailable + ", and resets to closed ports are not counted")
	}
	return t
}

// canWatchListenQueues tells whether listen queues are to be watched:
// when the options ask for it and the process may read the listeners of
// every network namespace.
func canWatchListenQueues(opts Options, logger *zap.Logger) bool {
	if !opts.ListenQueues.Enabled {
		return false
	}
	if !capability.Has(unix.CAP_SYS_ADMIN) {
		logger.Warn("tcp_drop: listen-queue overflows are not watched: reading the listeners of every network namespace needs CAP_SYS_ADMIN " +
			"(run as root, or add cap_sys_admin to the binary's capabilities); overflows of completing handshakes are still reported from kfree_skb")
		return false
	}
	return true
}

// openProbe loads the kernel program with the options' filters and the
// drop-reason policy this kernel allows.
func openProbe(opts Options, countOnly, watch bool, reasons *dropreason.Table, logger *zap.Logger) (*probe.Probe, error) {
	popts := opts.probeOptions(countOnly, watch)
	setReasonPolicy(&popts, reasons, watch)
	var err error
	if popts.Filter, err = opts.Logs.probeFilter(reasons, func(msg string) { logger.Warn(msg) }); err != nil {
		return nil, err
	}
	return probe.Open(popts)
}

// loadSymbols is the kernel's symbols, or nil when they cannot be read:
// a nil Symbolizer reports hex addresses.
func loadSymbols(logger *zap.Logger) *kallsyms.Symbolizer {
	symbols, err := kallsyms.LoadFile("/proc/kallsyms")
	if err != nil {
		logger.Warn("kernel symbols unavailable: drop locations are reported as raw addresses", zap.Error(err))
		symbols = nil
	}
	symbols.WarnIfRestricted(func(msg string) { logger.Warn(msg) })
	return symbols
}

// newOwnerResolver is the resolver of socket owners from /proc, helped by
// the kernel's record of socket births when that record is live.
func newOwnerResolver(p *probe.Probe, birthsLive bool, logger *zap.Logger) *owners.Resolver {
	r := owners.NewResolver("/proc")
	if err := r.CgroupNamespaceErr(); err != nil {
		logger.Warn("tcp_drop: cgroup paths are reported as this container's cgroup namespace writes them (relative to it), not as the host names them: "+
			"run with the host's pid namespace and CAP_SYS_ADMIN", zap.Error(err))
	}
	if birthsLive {
		r.UseBirths(socketBirths(p))
	}
	if err := r.UseKernel(); err != nil {
		logger.Info("tcp_drop: owners are found by reading every process's descriptors in /proc, not with the kernel's iterator, which costs less", zap.Error(err))
	}
	return r
}

// closedListeners is the kernel's record of the listeners that stopped
// listening, for the listen-queue watcher.
func closedListeners(p *probe.Probe) listeners.ClosedSource {
	return func() ([]listeners.Listener, error) {
		closed, err := p.TakeClosedListeners()
		ls := make([]listeners.Listener, len(closed))
		for i, c := range closed {
			ls[i] = listeners.Listener{Netns: c.Netns, Inode: c.Inode, Cookie: c.Cookie, Drops: uint64(c.Drops)}
		}
		return ls, err
	}
}

// MarkStart marks when listen-queue overflows start to count: a network
// namespace created since counts from its creation (listeners.MarkStart).
// The receiver calls it when it is created, before it loads anything.
func MarkStart() { listeners.MarkStart() }

// socketBirths is the kernel's record of who made each socket connect or
// listen, for the owner resolver.
func socketBirths(p *probe.Probe) owners.Births {
	return func(inode uint64) (int, string, bool) {
		b, ok := p.SocketBirth(inode)
		return b.PID, b.Comm, ok
	}
}
