// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"encoding/binary"
	"testing"
)

// refChecksum computes the TCP checksum from scratch, the slow obvious way,
// over the pseudo-header and the segment with its checksum field zeroed.
func refChecksum(pkt []byte, ip4 bool) uint16 {
	var pseudo, seg []byte
	if ip4 {
		seg = append([]byte(nil), pkt[20:]...)
		pseudo = append(pseudo, pkt[12:20]...)
		pseudo = append(pseudo, 0, 6, 0, byte(len(seg)))
	} else {
		seg = append([]byte(nil), pkt[40:]...)
		pseudo = append(pseudo, pkt[8:40]...)
		pseudo = append(pseudo, 0, 0, 0, byte(len(seg)), 0, 0, 0, 6)
	}
	seg[16], seg[17] = 0, 0
	var sum uint64
	for _, b := range [][]byte{pseudo, seg} {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint64(b[i])<<8 | uint64(b[i+1])
		}
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func TestPackerChecksums(t *testing.T) {
	ports := sourcePorts(9, nil)
	for _, fam := range []int{4, 6} {
		for _, kind := range []Kind{SYN, RST} {
			p := newPacker(fam, 9, kind, ports, false)
			buf := append([]byte(nil), p.tmpl...)
			for _, g := range []uint64{0, 1, 2, 65535, 64511, 64512, 1 << 32, 1<<64 - 1, 123456789} {
				p.write(buf, g)
				th := buf[p.tcp:]
				if got, want := binary.BigEndian.Uint16(th[16:]), refChecksum(buf, fam == 4); got != want {
					t.Fatalf("IPv%d %v g=%d: checksum %#04x, want %#04x", fam, kind, g, got, want)
				}
				if sport := binary.BigEndian.Uint16(th[0:]); sport != ports[g%uint64(len(ports))] {
					t.Fatalf("g=%d: source port %d", g, sport)
				}
				if dport := binary.BigEndian.Uint16(th[2:]); dport != 9 {
					t.Fatalf("destination port %d", dport)
				}
				if fam == 4 && binary.BigEndian.Uint16(buf[4:]) == 0 {
					t.Fatalf("g=%d: IP ID 0 (the kernel would have to pick one)", g)
				}
			}
			flag := byte(flagSYN)
			if kind == RST {
				flag = flagRST
			}
			if buf[p.tcp+13] != flag {
				t.Fatalf("flags %#x, want %#x", buf[p.tcp+13], flag)
			}
		}
	}
}

func TestPackerBadChecksum(t *testing.T) {
	p := newPacker(4, 9, SYN, sourcePorts(9, nil), true)
	buf := append([]byte(nil), p.tmpl...)
	p.write(buf, 7)
	if binary.BigEndian.Uint16(buf[p.tcp+16:]) == refChecksum(buf, true) {
		t.Fatal("bad checksum mode wrote a good checksum")
	}
}

func TestPackerAddresses(t *testing.T) {
	p4 := newPacker(4, 9, SYN, []uint16{1024}, false).tmpl
	if string(p4[12:16]) != "\x7f\x00\x00\x01" || string(p4[16:20]) != "\x7f\x00\x00\x01" {
		t.Fatalf("IPv4 addresses % x", p4[12:20])
	}
	p6 := newPacker(6, 9, SYN, []uint16{1024}, false).tmpl
	lo := "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	if string(p6[8:24]) != lo || string(p6[24:40]) != lo {
		t.Fatalf("IPv6 addresses % x", p6[8:40])
	}
}
