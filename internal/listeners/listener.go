// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"

	nshandle "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/netns"
	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// Listener is one listening TCP socket, as sock_diag reports it.
type Listener struct {
	Netns      uint32         // inode of its network namespace (as in ls -l /proc/<pid>/ns/net)
	Addr       netip.AddrPort // local address and port; IPv6 sockets keep 16-byte addresses
	Inode      uint64         // socket inode, as in /proc/<pid>/fd -> socket:[Inode]: owners.Resolver finds the process
	Cookie     uint64         // socket cookie: unlike the inode, never reused while the kernel runs
	Backlog    uint32         // accept queue: connections waiting for accept() (sk_ack_backlog)
	MaxBacklog uint32         // accept queue limit: listen()'s backlog capped by somaxconn (sk_max_ack_backlog)
	Drops      uint64         // sk_drops (SK_MEMINFO_DROPS), since the socket was created; see the package doc
	V6Only     bool           // an IPv6 socket that takes no IPv4 connections (IPV6_V6ONLY)
}

// snapshot is one namespace's listeners with its counters, read together.
type snapshot struct {
	netns       uint32
	cookie      uint64 // netns cookie; 0 when the kernel has none (before 5.14)
	listeners   []Listener
	counters    nsCounters
	interrupted bool // a dump was interrupted by a change of the listening table
}

// maxConsistencyTries bounds how many times readSnapshot dumps a namespace
// whose counters keep moving.
const maxConsistencyTries = 3

// readSnapshot reads the listeners and the netstat counters of the network
// namespace the calling thread is in (it must be locked to it), so that the
// counters and each socket's Drops describe the same moment: it dumps the
// sockets, then reads the counters, and repeats (a few times at most) until
// two reads of the counters around a dump agree. An overflow counts in
// ListenOverflows just before sk_drops, so counters unchanged after a dump
// mean no overflow happened during it.
//
// Reading /proc/net/netstat is the dearest step (the kernel sums every
// counter over every CPU), so a namespace whose counters still equal prev,
// those of the previous Poll, is read once: nothing overflowed there.
func readSnapshot(netnsInode uint32, sc *scratch, prev *nsCounters) (snapshot, error) {
	s := snapshot{netns: netnsInode}
	if sc == nil {
		sc = &scratch{}
	}
	if len(sc.recv) < recvBufSize {
		sc.recv = make([]byte, recvBufSize)
	}
	c, err := openDiag(sc.recv)
	if err != nil {
		return s, err
	}
	defer c.Close()
	s.cookie, _ = c.netnsCookie()
	before := prev
	for try := 1; ; try++ {
		if err := s.dump(c); err != nil {
			return s, err
		}
		after, err := readCounters(sc)
		if err != nil {
			return s, err
		}
		s.counters = after
		if (before != nil && after == *before && !s.interrupted) || try == maxConsistencyTries {
			return s, nil
		}
		before = &after
	}
}

// dump replaces s.listeners with the namespace's listening sockets.
func (s *snapshot) dump(c *diagConn) error {
	s.listeners = s.listeners[:0]
	s.interrupted = false
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := c.dumpListeners(family, func(r diagRecord) {
			s.listeners = append(s.listeners, Listener{
				Netns: s.netns, Addr: r.Addr, Inode: uint64(r.Inode), Cookie: r.Cookie,
				Backlog: r.RQueue, MaxBacklog: r.WQueue, Drops: r.Drops, V6Only: r.V6Only,
			})
		})
		switch {
		case errors.Is(err, errDumpInterrupted):
			s.interrupted = true
		case family == unix.AF_INET6 && errors.Is(err, unix.ENOENT):
			// No IPv6 in this kernel: no tcp6 diag handler.
		case err != nil:
			return err
		}
	}
	return nil
}

// scratch holds buffers reused from one namespace to the next within a Poll.
type scratch struct {
	recv []byte // netlink replies
	file []byte // /proc/net/netstat
}

// maxNetstat bounds the netstat file read (about 3 KiB on 6.18).
const maxNetstat = 256 << 10

// readCounters reads the calling thread's namespace's netstat counters
// (procfs.NetFile: the thread may be in another namespace than the
// thread-group leader).
func readCounters(sc *scratch) (nsCounters, error) {
	if sc.file == nil {
		sc.file = make([]byte, 0, 16<<10)
	}
	b, err := procfs.ReadFile(procfs.NetFile("netstat"), sc.file, maxNetstat)
	if err != nil {
		return nsCounters{}, fmt.Errorf("listeners: %w", err)
	}
	sc.file = b
	return parseNetstat(b)
}

// Dump lists the listening TCP sockets, IPv4 and IPv6, of the network
// namespace ns, or of the calling thread's namespace if ns is -1
// (github.com/vishvananda/netns.None()).
// Entering another namespace needs CAP_SYS_ADMIN.
func Dump(ns nshandle.NsHandle) ([]Listener, error) {
	s, err := dumpHandle(int(ns))
	return s.listeners, err
}

// dumpHandle reads a snapshot of namespace nsfd (-1: the calling thread's).
func dumpHandle(nsfd int) (snapshot, error) {
	var s snapshot
	read := func() error {
		ino, err := netns.ThreadInode()
		if err != nil {
			return fmt.Errorf("listeners: %w", err)
		}
		s, err = readSnapshot(ino, nil, nil)
		return err
	}
	if nsfd < 0 {
		return s, lockedDo(read)
	}
	return s, netns.Go(nsfd, read)
}

// lockedDo runs fn with the goroutine locked to its thread, so that fn sees
// one thread's namespace throughout.
func lockedDo(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return fn()
}
