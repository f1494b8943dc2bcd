// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// inet_diag wire format (include/uapi/linux/inet_diag.h, sock_diag.h). These
// are UAPI and stable; golang.org/x/sys/unix does not define them.
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	tcpListenState   = 10 // TCP_LISTEN in include/net/tcp_states.h
	attrSkMemInfo    = 7  // INET_DIAG_SKMEMINFO: [SK_MEMINFO_VARS]u32
	skMemInfoDrops   = 8  // SK_MEMINFO_DROPS, index into INET_DIAG_SKMEMINFO
	attrSkV6Only     = 11 // INET_DIAG_SKV6ONLY: u8, sent for every listening AF_INET6 socket

	sizeofSockID  = 48 // struct inet_diag_sockid
	sizeofReqV2   = 8 + sizeofSockID
	sizeofDiagMsg = 4 + sizeofSockID + 20 // struct inet_diag_msg
)

// diagRequest encodes struct inet_diag_req_v2 asking for the TCP sockets of
// one family in state LISTEN, with their SK_MEMINFO counters.
func diagRequest(family uint8) []byte {
	b := make([]byte, sizeofReqV2)
	b[0] = family
	b[1] = 6                                                // IPPROTO_TCP
	b[2] = 1 << (attrSkMemInfo - 1)                         // idiag_ext
	binary.NativeEndian.PutUint32(b[4:], 1<<tcpListenState) // idiag_states
	// The socket id stays zero: a dump does not filter on it.
	return b
}

// diagRecord is the part of one inet_diag_msg (and its attributes) that
// Listener needs.
type diagRecord struct {
	Family uint8
	State  uint8
	Addr   netip.AddrPort
	Cookie uint64
	RQueue uint32
	WQueue uint32
	Inode  uint32
	Drops  uint64
	HasMem bool // INET_DIAG_SKMEMINFO was present and long enough
	V6Only bool // INET_DIAG_SKV6ONLY was present and not 0
}

var errShort = errors.New("listeners: short inet_diag message")

// parseDiagMsg decodes the payload of one SOCK_DIAG_BY_FAMILY reply: struct
// inet_diag_msg followed by netlink attributes. It never panics on
// malformed input.
func parseDiagMsg(b []byte) (diagRecord, error) {
	var r diagRecord
	if len(b) < sizeofDiagMsg {
		return r, errShort
	}
	r.Family, r.State = b[0], b[1]
	id := b[4 : 4+sizeofSockID]
	port := binary.BigEndian.Uint16(id[0:2]) // idiag_sport is __be16
	switch r.Family {
	case 2: // AF_INET: the address is the first 4 bytes of idiag_src
		r.Addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte(id[4:8])), port)
	case 10: // AF_INET6
		r.Addr = netip.AddrPortFrom(netip.AddrFrom16([16]byte(id[4:20])), port)
	default:
		return r, fmt.Errorf("listeners: inet_diag message of family %d", r.Family)
	}
	// idiag_cookie is two host-endian u32, low word first (sock_diag_save_cookie).
	r.Cookie = uint64(binary.NativeEndian.Uint32(id[40:44])) | uint64(binary.NativeEndian.Uint32(id[44:48]))<<32
	rest := b[4+sizeofSockID:]
	// idiag_expires (rest[0:4]) is unused.
	r.RQueue = binary.NativeEndian.Uint32(rest[4:8])
	r.WQueue = binary.NativeEndian.Uint32(rest[8:12])
	// idiag_uid rest[12:16]
	r.Inode = binary.NativeEndian.Uint32(rest[16:20])
	err := walkAttrs(b[sizeofDiagMsg:], func(typ uint16, val []byte) {
		if typ == attrSkMemInfo && len(val) >= 4*(skMemInfoDrops+1) {
			r.Drops = uint64(binary.NativeEndian.Uint32(val[4*skMemInfoDrops:]))
			r.HasMem = true
		}
		if typ == attrSkV6Only && len(val) >= 1 {
			r.V6Only = val[0] != 0
		}
	})
	return r, err
}

// walkAttrs calls fn for each netlink attribute (struct nlattr, 4-byte
// aligned) in b.
func walkAttrs(b []byte, fn func(typ uint16, val []byte)) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("listeners: %d trailing bytes after attributes", len(b))
		}
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) & 0x3fff // strip NLA_F_NESTED, NLA_F_NET_BYTEORDER
		if l < 4 || l > len(b) {
			return fmt.Errorf("listeners: attribute length %d of %d bytes", l, len(b))
		}
		fn(typ, b[4:l])
		al := (l + 3) &^ 3
		if al > len(b) {
			al = len(b)
		}
		b = b[al:]
	}
	return nil
}
