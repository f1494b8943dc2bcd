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

// maxConsistencyTries bounds how many times snapshot dumps a namespace
// whose counters keep moving.
const maxConsistencyTries = 3

// snapshot reads the namespace's listeners and netstat counters so that
// the counters and each socket's Drops describe the same moment: it dumps
// the sockets, then reads the counters, and repeats (a few times at most)
// until two reads of the counters around a dump agree. An overflow counts
// in ListenOverflows just before sk_drops, so counters unchanged after a
// dump mean no overflow happened during it. before, if not nil, are
// counters read just before: equal after the dump, one dump is enough.
func (h *nsHandle) snapshot(sc *scratch, before *nsCounters) (snapshot, error) {
	s := snapshot{netns: h.netns, cookie: h.cookie}
	for try := 1; ; try++ {
		if err := s.dump(h.diag, sc.recvBuf()); err != nil {
			return s, err
		}
		after, err := h.counters(sc)
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
func (s *snapshot) dump(c *diagConn, buf []byte) error {
	s.listeners = s.listeners[:0]
	s.interrupted = false
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := c.dumpListeners(family, buf, func(r diagRecord) {
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
	dev  []byte // /proc/net/dev
}

// recvBuf is the buffer for netlink replies, made at the first use.
func (sc *scratch) recvBuf() []byte {
	if len(sc.recv) < recvBufSize {
		sc.recv = make([]byte, recvBufSize)
	}
	return sc.recv
}

// maxNetstat bounds the netstat file read (about 3 KiB on 6.18).
const maxNetstat = 256 << 10

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
		h, err := openHere(ino)
		if err != nil {
			return err
		}
		defer h.close()
		s, err = h.snapshot(&scratch{}, nil)
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
