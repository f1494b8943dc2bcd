// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// sockaddr converts addr for a socket of the returned family. IPv4-mapped
// IPv6 addresses are treated as IPv4; zones are ignored.
func sockaddr(addr netip.AddrPort) (int, unix.Sockaddr, error) {
	ip := addr.Addr().Unmap()
	switch {
	case ip.Is4():
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}, nil
	case ip.Is6():
		return unix.AF_INET6, &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}, nil
	}
	return 0, nil, fmt.Errorf("sandbox: invalid address %v", addr)
}

// LocalAddr returns the address a socket is bound to (e.g. the port the
// kernel picked for a Listen on port 0).
func LocalAddr(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("sandbox: getsockname: %w", err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), nil
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)), nil
	}
	return netip.AddrPort{}, fmt.Errorf("sandbox: unexpected socket address %T", sa)
}

// tcpSocket makes a TCP socket for addr (on the current thread, so inside Do)
// that gives up after about 3 s (TCP_SYNCNT 1: its SYN sent again once,
// or twice as the kernel's timer falls on the 3 s limit).
func tcpSocket(addr netip.AddrPort, flags int) (int, unix.Sockaddr, error) {
	family, sa, err := sockaddr(addr)
	if err != nil {
		return -1, nil, err
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|flags, unix.IPPROTO_TCP)
	if err != nil {
		return -1, nil, fmt.Errorf("sandbox: socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SYNCNT, 1); err != nil {
		_ = unix.Close(fd)
		return -1, nil, fmt.Errorf("sandbox: TCP_SYNCNT: %w", err)
	}
	return fd, sa, nil
}

// ConnectRefused makes count blocking TCP connects from inside the namespace
// to addr, a closed port. Each must fail with ECONNREFUSED; anything else is
// an error. The sockets give up after about 3s (tcpSocket) if
// the SYN is dropped instead of refused.
func (n *Netns) ConnectRefused(addr netip.AddrPort, count int) error {
	return n.connectRefused(addr, count, nil)
}

// ConnectRefusedExtHeaders is ConnectRefused with IPv6 extension headers
// between the IPv6 and the TCP header of each SYN: a hop-by-hop and a
// destination options header, each holding only padding.
func (n *Netns) ConnectRefusedExtHeaders(addr netip.AddrPort, count int) error {
	if !addr.Addr().Is6() || addr.Addr().Is4In6() {
		return fmt.Errorf("sandbox: IPv6 extension headers to %v, not an IPv6 address", addr)
	}
	// An 8-byte options header: next header (set by the kernel), length
	// in 8-byte units after the first 8 (0), and a PadN option of 4 bytes.
	padding := []byte{0, 0, 1, 4, 0, 0, 0, 0}
	return n.connectRefused(addr, count, func(fd int) error {
		for _, opt := range []int{unix.IPV6_HOPOPTS, unix.IPV6_DSTOPTS} {
			if err := unix.SetsockoptString(fd, unix.IPPROTO_IPV6, opt, string(padding)); err != nil {
				return fmt.Errorf("sandbox: IPv6 extension header option %d: %w", opt, err)
			}
		}
		return nil
	})
}

// connectRefused is ConnectRefused, with setup applied to each socket
// before it connects.
func (n *Netns) connectRefused(addr netip.AddrPort, count int, setup func(fd int) error) error {
	return n.Do(func() error {
		for i := range count {
			fd, sa, err := tcpSocket(addr, 0)
			if err != nil {
				return err
			}
			if setup != nil {
				if err := setup(fd); err != nil {
					_ = unix.Close(fd)
					return err
				}
			}
			err = unix.Connect(fd, sa)
			_ = unix.Close(fd)
			switch {
			case err == nil:
				return fmt.Errorf("sandbox: connect %d/%d to %v succeeded; want ECONNREFUSED", i+1, count, addr)
			case !errors.Is(err, unix.ECONNREFUSED):
				return fmt.Errorf("sandbox: connect %d/%d to %v: %w; want ECONNREFUSED", i+1, count, addr, err)
			}
		}
		return nil
	})
}

// StartConnects starts count non-blocking TCP connects from inside the
// namespace to addr and returns their sockets, each in progress (the SYN is
// sent before connect returns) or already finished. The caller closes them
// with unix.Close. The sockets give up after about 3s (tcpSocket).
func (n *Netns) StartConnects(addr netip.AddrPort, count int) ([]int, error) {
	fds := make([]int, 0, count)
	err := n.Do(func() error {
		for range count {
			fd, sa, err := tcpSocket(addr, unix.SOCK_NONBLOCK)
			if err != nil {
				return err
			}
			fds = append(fds, fd)
			if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
				return fmt.Errorf("sandbox: connect to %v: %w", addr, err)
			}
		}
		return nil
	})
	if err != nil {
		closeAll(fds)
		return nil, err
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}

// ConnectTimeout makes count non-blocking TCP connects from inside the
// namespace to addr whose SYNs are expected to be dropped (by DropTCPPort,
// say): it starts them all, waits `wait`, and closes them. If any connect
// finishes (is accepted or refused) within `wait`, that is an error.
// TCP_SYNCNT is 1, so a socket retransmits its SYN at most once, after the
// initial RTO of 1s: with wait < 1s each connect sends exactly one SYN.
func (n *Netns) ConnectTimeout(addr netip.AddrPort, count int, wait time.Duration) error {
	fds, err := n.StartConnects(addr, count)
	if err != nil {
		return err
	}
	defer closeAll(fds)
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLOUT}
	}
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		ms := int((left + time.Millisecond - 1) / time.Millisecond)
		k, err := unix.Poll(pfds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sandbox: poll: %w", err)
		}
		if k == 0 {
			continue // timed out; the loop checks the deadline
		}
		for _, p := range pfds {
			if p.Revents == 0 {
				continue
			}
			soerr, err := unix.GetsockoptInt(int(p.Fd), unix.SOL_SOCKET, unix.SO_ERROR)
			if err == nil && soerr != 0 {
				err = unix.Errno(soerr)
			}
			if err == nil {
				return fmt.Errorf("sandbox: connect to %v was established; its SYN was not dropped", addr)
			}
			return fmt.Errorf("sandbox: connect to %v finished with %w; its SYN was not dropped", addr, err)
		}
	}
}

// SendUDP sends count datagrams (payload "tcpdrop") from one unconnected UDP
// socket created inside the namespace to addr.
func (n *Netns) SendUDP(addr netip.AddrPort, count int) error {
	family, sa, err := sockaddr(addr)
	if err != nil {
		return err
	}
	return n.Do(func() error {
		fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
		if err != nil {
			return fmt.Errorf("sandbox: socket: %w", err)
		}
		defer unix.Close(fd)
		payload := []byte("tcpdrop")
		for i := range count {
			if err := unix.Sendto(fd, payload, 0, sa); err != nil {
				return fmt.Errorf("sandbox: send %d/%d to %v: %w", i+1, count, addr, err)
			}
		}
		return nil
	})
}

// Listen makes a TCP socket inside the namespace listening on addr with the
// given backlog, which nothing accepts from. The caller closes fd with
// unix.Close; LocalAddr tells the port if addr's port is 0.
func (n *Netns) Listen(addr netip.AddrPort, backlog int) (fd int, err error) {
	return n.listen(addr, backlog, false)
}

// ListenV6Only is Listen for an IPv6 socket that takes no IPv4 connections
// (IPV6_V6ONLY), unlike Listen's, which take both.
func (n *Netns) ListenV6Only(addr netip.AddrPort, backlog int) (fd int, err error) {
	if !addr.Addr().Is6() {
		return -1, fmt.Errorf("sandbox: IPV6_V6ONLY on %v, not an IPv6 address", addr)
	}
	return n.listen(addr, backlog, true)
}

func (n *Netns) listen(addr netip.AddrPort, backlog int, v6only bool) (fd int, err error) {
	family, sa, err := sockaddr(addr)
	if err != nil {
		return -1, err
	}
	fd = -1
	err = n.Do(func() error {
		s, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			return fmt.Errorf("sandbox: socket: %w", err)
		}
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			_ = unix.Close(s)
			return fmt.Errorf("sandbox: SO_REUSEADDR: %w", err)
		}
		if v6only {
			if err := unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
				_ = unix.Close(s)
				return fmt.Errorf("sandbox: IPV6_V6ONLY: %w", err)
			}
		}
		if err := unix.Bind(s, sa); err != nil {
			_ = unix.Close(s)
			return fmt.Errorf("sandbox: bind %v: %w", addr, err)
		}
		if err := unix.Listen(s, backlog); err != nil {
			_ = unix.Close(s)
			return fmt.Errorf("sandbox: listen on %v: %w", addr, err)
		}
		fd = s
		return nil
	})
	return fd, err
}
