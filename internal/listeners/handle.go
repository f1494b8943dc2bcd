// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/netns"
	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// nsHandle is a network namespace as a Watcher keeps it between Polls: its
// /proc/net/dev and /proc/net/netstat and a sock_diag socket, all opened
// from inside it once, so that reading it again needs neither setns nor a
// path lookup. They keep the namespace alive while open: the Watcher
// closes them as soon as it no longer finds the namespace.
//
// /proc/net/dev is the cheap test (a few µs, against about 50 for
// netstat): an overflow needs a packet, and every packet that reaches the
// namespace's TCP is counted on one of its devices first. So a namespace
// whose device counters did not move since the previous read, nor at it,
// cannot have overflowed meanwhile (the second read leaves time for a
// packet counted at the first to be processed).
type nsHandle struct {
	netns   uint32
	cookie  uint64 // netns cookie; 0 when the kernel has none (before 5.14)
	dev     int    // the namespace's /proc/net/dev
	netstat int    // the namespace's /proc/net/netstat
	diag    *diagConn

	lastDev     []byte // the device counters, as last read
	movedLast   bool   // they had moved at the read before (or it was the first)
	changedLast bool   // they had moved at the read before, against the one before it
}

// openHandle opens the handle of namespace ino through path, after checking
// that path still leads there (errGone if not); own is set for the
// Watcher's own namespace, opened without setns (which needs
// CAP_SYS_ADMIN) once the thread doing it is seen to be there.
func openHandle(path string, ino uint32, own bool) (*nsHandle, error) {
	var h *nsHandle
	open := func() error {
		var err error
		h, err = openHere(ino)
		return err
	}
	if own {
		err := lockedDo(func() error {
			if cur, err := netns.ThreadInode(); err != nil || cur != ino {
				return errNotHere
			}
			return open()
		})
		if !errors.Is(err, errNotHere) {
			return h, err
		}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errGone
	}
	defer unix.Close(fd)
	if got, err := netns.FDInode(fd); err != nil || got != ino {
		return nil, errGone
	}
	return h, netns.Go(fd, open)
}

// openHere opens the handle of the calling thread's namespace, ino (the
// thread must be locked to it).
func openHere(ino uint32) (*nsHandle, error) {
	f, err := unix.Open(procfs.NetFile("netstat"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("listeners: %w", err)
	}
	d, err := unix.Open(procfs.NetFile("dev"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = unix.Close(f)
		return nil, fmt.Errorf("listeners: %w", err)
	}
	c, err := openDiag()
	if err != nil {
		_ = unix.Close(f)
		_ = unix.Close(d)
		return nil, err
	}
	h := &nsHandle{netns: ino, dev: d, netstat: f, diag: c}
	h.cookie, _ = netns.Cookie(c.fd)
	return h, nil
}

// close releases the namespace.
func (h *nsHandle) close() {
	_ = unix.Close(h.netstat)
	_ = unix.Close(h.dev)
	_ = h.diag.Close()
}

// maxDev bounds the /proc/net/dev read: about 130 bytes a device.
const maxDev = 16 << 20

// quiet reads the namespace's device counters and tells whether they are
// the same as at the last two reads: then no packet has reached it since,
// and its overflow counters cannot have moved. The first read is never
// quiet. changed is the same test without that rule: whether they moved at
// this read or the one before, against a read before them; a packet since
// the namespace was first read can have filled a queue.
func (h *nsHandle) quiet(sc *scratch) (q, changed bool, err error) {
	b, err := procfs.ReadFD(h.dev, sc.dev, maxDev)
	if err != nil {
		return false, false, fmt.Errorf("listeners: /proc/net/dev: %w", err)
	}
	sc.dev = b
	first := h.lastDev == nil
	differs := !first && !bytes.Equal(b, h.lastDev)
	moved := first || differs
	q, changed = !moved && !h.movedLast, differs || h.changedLast
	h.lastDev, h.movedLast, h.changedLast = append(h.lastDev[:0], b...), moved, differs
	return q, changed, nil
}

// counters reads the namespace's listen-queue counters.
func (h *nsHandle) counters(sc *scratch) (nsCounters, error) {
	if sc.file == nil {
		sc.file = make([]byte, 0, 16<<10)
	}
	b, err := procfs.ReadFD(h.netstat, sc.file, maxNetstat)
	if err != nil {
		return nsCounters{}, fmt.Errorf("listeners: netstat: %w", err)
	}
	sc.file = b
	return parseNetstat(b)
}
