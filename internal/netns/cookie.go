// SPDX-License-Identifier: Apache-2.0

package netns

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Cookie is the cookie of the network namespace of socket fd
// (SO_NETNS_COOKIE, Linux 5.14+), false where the kernel has none. Unlike
// an inode number it is never reused.
func Cookie(fd int) (uint64, bool) {
	var v uint64
	l := uint32(unsafe.Sizeof(v))
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_NETNS_COOKIE,
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if errno != 0 || l != 8 {
		return 0, false
	}
	return v, true
}
