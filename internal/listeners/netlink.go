// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds on one dump, so that a stuck or hostile namespace cannot hold a
// Poll forever or fill memory.
const (
	recvTimeout  = time.Second     // per recvfrom
	dumpDeadline = 5 * time.Second // per family dump
	maxRecords   = 1 << 20         // per family dump
	recvBufSize  = 64 << 10        // bigger than any one dump skb (32 KiB)
)

// errDumpInterrupted: the kernel flagged the dump NLM_F_DUMP_INTR (the
// listening table changed during it); the result may miss or repeat sockets.
var errDumpInterrupted = errors.New("listeners: inet_diag dump interrupted")

// diagConn is a NETLINK_SOCK_DIAG socket. It answers for the network
// namespace it was created in, wherever it is used afterwards.
type diagConn struct {
	fd  int
	seq uint32
}

// openDiag makes a sock_diag socket in the calling thread's network
// namespace.
func openDiag() (*diagConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("listeners: sock_diag socket: %w", err)
	}
	tv := unix.NsecToTimeval(recvTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("listeners: SO_RCVTIMEO: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("listeners: bind sock_diag socket: %w", err)
	}
	return &diagConn{fd: fd}, nil
}

func (c *diagConn) Close() error { return unix.Close(c.fd) }

// dumpListeners asks for the listening TCP sockets of one family and calls fn
// for each reply record; buf (at least recvBufSize bytes) receives the
// replies.
func (c *diagConn) dumpListeners(family uint8, buf []byte, fn func(diagRecord)) error {
	c.seq++
	seq := c.seq
	req := diagRequest(family)
	msg := make([]byte, unix.NLMSG_HDRLEN+len(req))
	binary.NativeEndian.PutUint32(msg[0:4], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:6], sockDiagByFamily)
	binary.NativeEndian.PutUint16(msg[6:8], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(msg[8:12], seq)
	copy(msg[unix.NLMSG_HDRLEN:], req)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("listeners: send inet_diag request: %w", err)
	}
	deadline := time.Now().Add(dumpDeadline)
	records := 0
	interrupted := false
	for {
		if time.Now().After(deadline) {
			return fmt.Errorf("listeners: inet_diag dump took longer than %v", dumpDeadline)
		}
		n, _, err := unix.Recvfrom(c.fd, buf, unix.MSG_TRUNC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("listeners: receive inet_diag reply: %w", err)
		}
		if n > len(buf) {
			return fmt.Errorf("listeners: inet_diag reply of %d bytes truncated", n)
		}
		done, err := parseReplies(buf[:n], seq, func(flags uint16, payload []byte) error {
			if flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			r, err := parseDiagMsg(payload)
			if err != nil {
				return err
			}
			records++
			if records > maxRecords {
				return fmt.Errorf("listeners: more than %d listening sockets", maxRecords)
			}
			fn(r)
			return nil
		})
		if err != nil {
			return err
		}
		if done {
			if interrupted {
				return errDumpInterrupted
			}
			return nil
		}
	}
}

// parseReplies walks the netlink messages in one datagram. fn gets the
// payload of each SOCK_DIAG_BY_FAMILY message with sequence number seq;
// done is true after NLMSG_DONE. Messages of other sequence numbers (stale
// replies) are skipped.
func parseReplies(b []byte, seq uint32, fn func(flags uint16, payload []byte) error) (done bool, err error) {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		flags := binary.NativeEndian.Uint16(b[6:8])
		mseq := binary.NativeEndian.Uint32(b[8:12])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return false, fmt.Errorf("listeners: netlink message length %d of %d bytes", l, len(b))
		}
		payload := b[unix.NLMSG_HDRLEN:l]
		if al := (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1); al < len(b) {
			b = b[al:]
		} else {
			b = nil
		}
		if mseq != seq {
			continue
		}
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(payload) < 4 {
				return false, errors.New("listeners: short netlink error message")
			}
			errno := -int32(binary.NativeEndian.Uint32(payload[0:4]))
			if errno == 0 {
				continue // an ACK
			}
			return false, fmt.Errorf("listeners: inet_diag: %w", unix.Errno(errno))
		case sockDiagByFamily:
			if err := fn(flags, payload); err != nil {
				return false, err
			}
		}
	}
	if len(b) != 0 {
		return false, fmt.Errorf("listeners: %d trailing bytes in netlink datagram", len(b))
	}
	return false, nil
}
