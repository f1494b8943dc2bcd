// SPDX-License-Identifier: Apache-2.0

// Package sandbox makes anonymous network namespaces for the project's tests,
// benchmarks and drop generator, and does things inside them: connects that
// are refused or dropped, an nftables drop rule with a counter, a listener
// that never accepts, and the namespace's SNMP counters.
//
// A namespace is referenced by an open file descriptor (Netns) and disappears
// when that and every socket created inside it are closed.
package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/vishvananda/netlink"
	nshandle "github.com/vishvananda/netns"

	"github.com/tcpdrop/tcpdrop/internal/netns"
)

// ErrClosed is returned by the methods of a closed Netns.
var ErrClosed = errors.New("sandbox: network namespace closed")

// Netns is an anonymous network namespace with lo up. Its methods are safe
// for concurrent use; Close waits for the running ones.
type Netns struct {
	mu     sync.RWMutex // write-held by Close; read-held while the handle is in use
	handle nshandle.NsHandle
	inode  uint32
	ipv6   bool
}

// New creates a new, anonymous network namespace with lo up (127.0.0.1, and
// ::1 unless the kernel has no IPv6). It does not change the namespace of the
// calling thread.
func New() (*Netns, error) {
	fd, err := netns.New()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	h := nshandle.NsHandle(fd)
	ino, err := netns.FDInode(fd)
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	n := &Netns{handle: h, inode: ino}
	if err := n.setupLoopback(); err != nil {
		_ = n.Close()
		return nil, err
	}
	return n, nil
}

// Open returns the network namespace at path, e.g. /proc/<pid>/ns/net of a
// container's process, with lo up as New leaves it. Close releases only the
// handle: the namespace lives as long as its processes.
func Open(path string) (*Netns, error) {
	h, err := nshandle.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open network namespace %s: %w", path, err)
	}
	ino, err := netns.FDInode(int(h))
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	n := &Netns{handle: h, inode: ino}
	if err := n.setupLoopback(); err != nil {
		_ = n.Close()
		return nil, err
	}
	return n, nil
}

// setupLoopback brings lo up and checks that 127.0.0.1 and ::1 are there.
func (n *Netns) setupLoopback() error {
	nl, err := netlink.NewHandleAt(n.handle)
	if err != nil {
		return fmt.Errorf("sandbox: netlink handle in namespace: %w", err)
	}
	defer nl.Close()
	lo, err := nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("sandbox: find lo: %w", err)
	}
	if err := nl.LinkSetUp(lo); err != nil {
		return fmt.Errorf("sandbox: set lo up: %w", err)
	}
	ok, err := hasAddr(nl, lo, netlink.FAMILY_V4, net.IPv4(127, 0, 0, 1))
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("sandbox: lo is up but has no 127.0.0.1")
	}
	// IPv6: ::1 appears when lo goes up, unless IPv6 is disabled in the new
	// namespace (net.ipv6.conf.{all,default}.disable_ipv6 inherited) or absent.
	if n.ipv6, err = hasAddr(nl, lo, netlink.FAMILY_V6, net.IPv6loopback); err != nil || n.ipv6 {
		return err
	}
	if err := n.Do(enableIPv6); err != nil {
		return err
	}
	n.ipv6, err = hasAddr(nl, lo, netlink.FAMILY_V6, net.IPv6loopback)
	return err
}

// hasAddr tells whether link has the address ip of family.
func hasAddr(nl *netlink.Handle, link netlink.Link, family int, ip net.IP) (bool, error) {
	addrs, err := nl.AddrList(link, family)
	if err != nil {
		return false, fmt.Errorf("sandbox: list addresses of lo: %w", err)
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return true, nil
		}
	}
	return false, nil
}

// enableIPv6 turns IPv6 on for lo in the namespace it runs in, where the
// kernel has IPv6 at all.
func enableIPv6() error {
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		return nil // no IPv6 in this kernel: not an error
	}
	for _, p := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/lo/disable_ipv6"} {
		if err := os.WriteFile(p, []byte("0\n"), 0); err != nil {
			return fmt.Errorf("sandbox: enable IPv6 on lo: %w", err)
		}
	}
	return nil
}

// Close releases the namespace handle; the namespace disappears once no
// socket created inside it is open either. Close is safe to call twice.
func (n *Netns) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.handle.IsOpen() {
		return nil
	}
	return n.handle.Close()
}

// Inode is the inode number of the namespace: what stat(/proc/self/ns/net)
// shows inside it, and what the eBPF program reports.
func (n *Netns) Inode() uint32 { return n.inode }

// HasIPv6 reports whether ::1 is configured on lo.
func (n *Netns) HasIPv6() bool { return n.ipv6 }

// Do runs fn on the calling goroutine, locked to its OS thread, with that
// thread switched into the namespace, then switches back (netns.Do).
// Goroutines that fn starts are not in the namespace; sockets fn creates
// stay in it for good and may be used anywhere afterwards. fn must not call
// Close.
func (n *Netns) Do(fn func() error) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if !n.handle.IsOpen() {
		return ErrClosed
	}
	return netns.Do(int(n.handle), fn)
}
