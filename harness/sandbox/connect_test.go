// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSockaddrInvalid(t *testing.T) {
	if _, _, err := sockaddr(netip.AddrPort{}); err == nil {
		t.Fatal("sockaddr of the zero AddrPort: want an error")
	}
	fam, sa, err := sockaddr(mustAddrPort(t, "[::ffff:127.0.0.1]:80"))
	if err != nil || fam != unix.AF_INET || sa.(*unix.SockaddrInet4).Port != 80 {
		t.Fatalf("sockaddr of a v4-mapped address = %v, %v, %v", fam, sa, err)
	}
}
