// SPDX-License-Identifier: Apache-2.0

package dropgen

import "encoding/binary"

// Header sizes; the packets carry no options and no payload.
const (
	ip4Len = 20
	ip6Len = 40
	tcpLen = 20
)

// TCP flags.
const (
	flagSYN = 0x02
	flagRST = 0x04
)

// packer holds one packet, IP header included, and writes copies of it that
// differ only in source port, sequence number, IP ID and checksums.
type packer struct {
	tmpl  []byte   // the packet with source port, seq and TCP checksum zero
	tcp   int      // offset of the TCP header in tmpl
	base  uint32   // unfolded TCP checksum of tmpl, pseudo-header included
	ports []uint16 // source ports to cycle through
	ip4   bool
	bad   bool // write wrong checksums (tests only)
}

// newPacker builds the template for a family, destination port, kind and the
// source ports to use. The source and destination are the loopback address.
func newPacker(family int, dport uint16, kind Kind, ports []uint16, bad bool) *packer {
	p := &packer{ports: ports, ip4: family == 4, bad: bad}
	var pseudo uint32
	if p.ip4 {
		p.tcp = ip4Len
		p.tmpl = make([]byte, ip4Len+tcpLen)
		ip := p.tmpl[:ip4Len]
		ip[0] = 0x45 // version 4, 5 words
		binary.BigEndian.PutUint16(ip[2:], ip4Len+tcpLen)
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
		ip[8] = 64                                 // TTL
		ip[9] = 6                                  // TCP
		copy(ip[12:16], []byte{127, 0, 0, 1})
		copy(ip[16:20], []byte{127, 0, 0, 1})
		// IPv4 pseudo-header: addresses, zero, protocol, TCP length.
		pseudo = sum16(0, ip[12:20]) + 6 + tcpLen
	} else {
		p.tcp = ip6Len
		p.tmpl = make([]byte, ip6Len+tcpLen)
		ip := p.tmpl[:ip6Len]
		ip[0] = 0x60 // version 6
		binary.BigEndian.PutUint16(ip[4:], tcpLen)
		ip[6] = 6  // next header TCP
		ip[7] = 64 // hop limit
		ip[23] = 1 // source ::1
		ip[39] = 1 // destination ::1
		// IPv6 pseudo-header: addresses, upper-layer length, next header.
		pseudo = sum16(0, ip[8:40]) + tcpLen + 6
	}
	th := p.tmpl[p.tcp:]
	binary.BigEndian.PutUint16(th[2:], dport)
	th[12] = 5 << 4 // data offset: 5 words
	if kind == RST {
		th[13] = flagRST
	} else {
		th[13] = flagSYN
		binary.BigEndian.PutUint16(th[14:], 65535) // window
	}
	p.base = sum16(pseudo, th)
	return p
}

// write fills buf (len(p.tmpl), already a copy of tmpl) as packet number g.
// Only the fields that vary are written, so the copy is made once per buffer.
func (p *packer) write(buf []byte, g uint64) {
	sport := p.ports[g%uint64(len(p.ports))]
	// Spread sequence numbers (Knuth's multiplicative hash) so the packets
	// look like distinct connection attempts.
	seq := uint32(g) * 2654435761
	th := buf[p.tcp:]
	binary.BigEndian.PutUint16(th[0:], sport)
	binary.BigEndian.PutUint32(th[4:], seq)
	// The template sums to base with these fields zero; add them back.
	sum := checksum(p.base + uint32(sport) + seq>>16 + seq&0xffff)
	if p.bad {
		sum ^= 0x5a5a
	}
	binary.BigEndian.PutUint16(th[16:], sum)
	if p.ip4 {
		// A zero ID would make the kernel pick one: work we can spare it.
		id := uint16(g) | 1
		binary.BigEndian.PutUint16(buf[4:], id)
	}
}
