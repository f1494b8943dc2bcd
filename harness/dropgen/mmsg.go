// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batch is a reusable sendmmsg vector: n packet buffers, each with its own
// iovec and header. The socket is connected, so no addresses are needed.
type batch struct {
	hdrs []unix.Mmsghdr
	iovs []unix.Iovec
	bufs [][]byte
}

// newBatch allocates n messages, each a copy of tmpl.
func newBatch(n int, tmpl []byte) *batch {
	b := &batch{
		hdrs: make([]unix.Mmsghdr, n),
		iovs: make([]unix.Iovec, n),
		bufs: make([][]byte, n),
	}
	mem := make([]byte, n*len(tmpl)) // one block: fewer cache misses
	for i := range n {
		b.bufs[i] = mem[i*len(tmpl) : (i+1)*len(tmpl) : (i+1)*len(tmpl)]
		copy(b.bufs[i], tmpl)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(tmpl))
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	return b
}

// sendmmsg sends hdrs on fd and returns how many the kernel took. x/sys has
// no wrapper for it.
func sendmmsg(fd int, hdrs []unix.Mmsghdr) (int, unix.Errno) {
	if len(hdrs) == 0 {
		return 0, 0
	}
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), 0, 0, 0)
	// The headers point at iovecs and buffers the kernel reads during the
	// call; keep them reachable until it returns.
	runtime.KeepAlive(hdrs)
	if errno != 0 {
		return 0, errno
	}
	return int(n), 0
}
