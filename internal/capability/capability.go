// SPDX-License-Identifier: Apache-2.0

// Package capability reads the Linux capabilities of the calling thread,
// for the checks that say which privilege is missing before an operation
// fails on it.
package capability

import "golang.org/x/sys/unix"

// Effective is the calling thread's effective capability set, bit n for
// capability n (unix.CAP_*); 0 if it cannot be read.
func Effective() uint64 {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32
}

// Has reports whether the calling thread holds capability c (unix.CAP_*)
// in its effective set.
func Has(c int) bool {
	return c >= 0 && c < 64 && Effective()&(1<<uint(c)) != 0
}
