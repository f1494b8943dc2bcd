// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// openRaw opens a raw socket in the calling thread's network namespace,
// connected to the loopback address of family, that sends packets whose IP
// header we write. IPPROTO_RAW matters: such a socket receives nothing, while
// one of IPPROTO_TCP would be handed a clone of every TCP segment, and the
// ones it queued would become QUEUE_PURGE drops when it closes.
func openRaw(family int) (fd int, err error) {
	af, sa := unix.AF_INET, unix.Sockaddr(&unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	if family == 6 {
		af, sa = unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}
	}
	fd, err = unix.Socket(af, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return -1, fmt.Errorf("dropgen: raw socket (needs CAP_NET_RAW): %w", err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
			fd = -1
		}
	}()
	// IPPROTO_RAW implies a header-included socket for IPv4; say so for IPv6,
	// where it is a separate option.
	if family == 6 {
		if err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_HDRINCL, 1); err != nil {
			return -1, fmt.Errorf("dropgen: IPV6_HDRINCL: %w", err)
		}
	}
	// Connected, the kernel keeps the destination and we pass no address.
	if err = unix.Connect(fd, sa); err != nil {
		return -1, fmt.Errorf("dropgen: connect raw socket to loopback: %w", err)
	}
	return fd, nil
}
