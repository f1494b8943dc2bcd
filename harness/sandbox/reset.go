// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// AbortOnClose makes count connections to the listener lfd at addr, each of
// whose accepted sockets is closed with the client's data unread: the
// kernel aborts the connection with a reset (its reason
// TCP_ABORT_ON_CLOSE). It returns the accepted sockets' inodes, which
// this process owned.
func (n *Netns) AbortOnClose(lfd int, addr netip.AddrPort, count int) (inodes []uint64, err error) {
	err = n.Do(func() error {
		for range count {
			ino, err := abortOne(lfd, addr)
			if err != nil {
				return err
			}
			inodes = append(inodes, ino)
		}
		return nil
	})
	return inodes, err
}

// abortOne is one connection of AbortOnClose, in the namespace.
func abortOne(lfd int, addr netip.AddrPort) (uint64, error) {
	cfd, sa, err := tcpSocket(addr, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(cfd)
	if err := unix.Connect(cfd, sa); err != nil {
		return 0, err
	}
	sfd, _, err := unix.Accept(lfd)
	if err != nil {
		return 0, err
	}
	ino, err := unreadData(cfd, sfd)
	if cerr := unix.Close(sfd); err == nil {
		err = cerr
	}
	return ino, err
}

// unreadData writes from cfd to its peer sfd and waits until the data is
// in sfd's queue; it returns sfd's inode.
func unreadData(cfd, sfd int) (uint64, error) {
	if _, err := unix.Write(cfd, []byte("unread")); err != nil {
		return 0, err
	}
	if _, _, err := unix.Recvfrom(sfd, make([]byte, 1), unix.MSG_PEEK); err != nil { // blocks until it is there
		return 0, err
	}
	var st unix.Stat_t
	err := unix.Fstat(sfd, &st)
	return st.Ino, err
}
