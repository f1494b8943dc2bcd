// SPDX-License-Identifier: Apache-2.0

package dropgen

// sum16 adds b as big-endian 16-bit words to acc without folding, so
// partial sums can be combined later (RFC 1071).
func sum16(acc uint32, b []byte) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

// fold turns an unfolded sum into the 16-bit ones' complement sum.
func fold(acc uint32) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}

// checksum is the Internet checksum of an unfolded sum.
func checksum(acc uint32) uint16 {
	return ^fold(acc)
}
