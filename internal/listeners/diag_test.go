// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// diagMsg builds a struct inet_diag_msg with an INET_DIAG_SKMEMINFO
// attribute, as the kernel sends for a listener.
func diagMsg(family uint8, addr netip.AddrPort, cookie uint64, rq, wq, inode, drops uint32) []byte {
	b := make([]byte, sizeofDiagMsg)
	b[0], b[1] = family, tcpListenState
	id := b[4 : 4+sizeofSockID]
	binary.BigEndian.PutUint16(id[0:2], addr.Port())
	a16 := addr.Addr().As16()
	if family == unix.AF_INET {
		a4 := addr.Addr().As4()
		copy(id[4:8], a4[:])
	} else {
		copy(id[4:20], a16[:])
	}
	binary.NativeEndian.PutUint32(id[40:44], uint32(cookie))
	binary.NativeEndian.PutUint32(id[44:48], uint32(cookie>>32))
	rest := b[4+sizeofSockID:]
	binary.NativeEndian.PutUint32(rest[4:8], rq)
	binary.NativeEndian.PutUint32(rest[8:12], wq)
	binary.NativeEndian.PutUint32(rest[16:20], inode)
	mem := make([]byte, 4+4*9)
	binary.NativeEndian.PutUint16(mem[0:2], uint16(len(mem)))
	binary.NativeEndian.PutUint16(mem[2:4], attrSkMemInfo)
	binary.NativeEndian.PutUint32(mem[4+4*skMemInfoDrops:], drops)
	// An unrelated attribute of odd length first, to test alignment.
	other := []byte{5, 0, 8, 0, 1, 0, 0, 0} // INET_DIAG_SHUTDOWN, 1 byte + padding
	return append(append(b, other...), mem...)
}

// nlmsg wraps a payload in a netlink header.
func nlmsg(typ, flags uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(payload)+3)
	binary.NativeEndian.PutUint32(b[0:4], uint32(unix.NLMSG_HDRLEN+len(payload)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	binary.NativeEndian.PutUint16(b[6:8], flags)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestParseDiagMsg(t *testing.T) {
	a4 := netip.MustParseAddrPort("10.1.2.3:8080")
	r, err := parseDiagMsg(diagMsg(unix.AF_INET, a4, 0x1122334455667788, 3, 128, 4242, 17))
	want := diagRecord{Family: unix.AF_INET, State: tcpListenState, Addr: a4, Cookie: 0x1122334455667788,
		RQueue: 3, WQueue: 128, Inode: 4242, Drops: 17, HasMem: true}
	if err != nil || r != want {
		t.Fatalf("IPv4: %+v, %v; want %+v", r, err, want)
	}
	a6 := netip.MustParseAddrPort("[2001:db8::1]:443")
	r, err = parseDiagMsg(diagMsg(unix.AF_INET6, a6, 1, 0, 4096, 1, 0))
	if err != nil || r.Addr != a6 || r.WQueue != 4096 || !r.HasMem {
		t.Fatalf("IPv6: %+v, %v", r, err)
	}
	if r.V6Only {
		t.Fatalf("IPv6 without INET_DIAG_SKV6ONLY: V6Only")
	}
	v6only := []byte{5, 0, attrSkV6Only, 0, 1, 0, 0, 0} // u8 1 + padding
	r, err = parseDiagMsg(append(diagMsg(unix.AF_INET6, a6, 1, 0, 4096, 1, 0), v6only...))
	if err != nil || !r.V6Only || !r.HasMem {
		t.Fatalf("IPv6 with INET_DIAG_SKV6ONLY 1: %+v, %v", r, err)
	}
	v6only[4] = 0
	r, err = parseDiagMsg(append(diagMsg(unix.AF_INET6, a6, 1, 0, 4096, 1, 0), v6only...))
	if err != nil || r.V6Only {
		t.Fatalf("IPv6 with INET_DIAG_SKV6ONLY 0: %+v, %v", r, err)
	}
	// Without the memory attribute: no drops, and said so.
	r, err = parseDiagMsg(diagMsg(unix.AF_INET, a4, 1, 0, 1, 1, 5)[:sizeofDiagMsg])
	if err != nil || r.HasMem || r.Drops != 0 {
		t.Fatalf("no attributes: %+v, %v", r, err)
	}
	for name, b := range map[string][]byte{
		"short":          make([]byte, sizeofDiagMsg-1),
		"bad family":     append([]byte{99}, make([]byte, sizeofDiagMsg)...),
		"bad attr len":   append(diagMsg(unix.AF_INET, a4, 1, 0, 1, 1, 5)[:sizeofDiagMsg], 2, 0, 7, 0),
		"attr too long":  append(diagMsg(unix.AF_INET, a4, 1, 0, 1, 1, 5)[:sizeofDiagMsg], 200, 0, 7, 0),
		"trailing bytes": append(diagMsg(unix.AF_INET, a4, 1, 0, 1, 1, 5), 1, 2),
	} {
		if _, err := parseDiagMsg(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseReplies(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.1:80")
	rec := diagMsg(unix.AF_INET, a, 7, 0, 1, 9, 2)
	var got []diagRecord
	collect := func(_ uint16, p []byte) error {
		r, err := parseDiagMsg(p)
		got = append(got, r)
		return err
	}
	dgram := append(append(nlmsg(sockDiagByFamily, unix.NLM_F_MULTI, 5, rec),
		nlmsg(sockDiagByFamily, unix.NLM_F_MULTI, 4, rec)...), // stale reply: skipped
		nlmsg(unix.NLMSG_NOOP, 0, 5, nil)...)
	done, err := parseReplies(dgram, 5, collect)
	if err != nil || done || len(got) != 1 || got[0].Cookie != 7 {
		t.Fatalf("records: done %v, err %v, got %+v", done, err, got)
	}
	done, err = parseReplies(nlmsg(unix.NLMSG_DONE, unix.NLM_F_MULTI, 5, make([]byte, 4)), 5, collect)
	if err != nil || !done {
		t.Fatalf("NLMSG_DONE: done %v, err %v", done, err)
	}
	errMsg := make([]byte, 4)
	eperm := -int32(unix.EPERM)
	binary.NativeEndian.PutUint32(errMsg, uint32(eperm))
	if _, err = parseReplies(nlmsg(unix.NLMSG_ERROR, 0, 5, errMsg), 5, collect); !errors.Is(err, unix.EPERM) {
		t.Fatalf("NLMSG_ERROR EPERM: %v", err)
	}
	for name, b := range map[string][]byte{
		"length beyond datagram": nlmsg(sockDiagByFamily, 0, 5, rec)[:unix.NLMSG_HDRLEN+4],
		"length below header":    {4, 0, 0, 0, 20, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0},
		"short error":            nlmsg(unix.NLMSG_ERROR, 0, 5, nil),
		"trailing bytes":         append(nlmsg(unix.NLMSG_NOOP, 0, 5, nil), 1, 2, 3),
	} {
		if _, err := parseReplies(b, 5, collect); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDiagRequest(t *testing.T) {
	b := diagRequest(unix.AF_INET6)
	if len(b) != sizeofReqV2 || b[0] != unix.AF_INET6 || b[1] != unix.IPPROTO_TCP || b[2] != 1<<(attrSkMemInfo-1) ||
		binary.NativeEndian.Uint32(b[4:8]) != 1<<tcpListenState {
		t.Fatalf("request %x", b)
	}
}

func FuzzParseReplies(f *testing.F) {
	a := netip.MustParseAddrPort("[::1]:80")
	f.Add(nlmsg(sockDiagByFamily, unix.NLM_F_MULTI, 1, diagMsg(unix.AF_INET6, a, 1, 0, 1, 1, 1)))
	f.Add(nlmsg(unix.NLMSG_DONE, 0, 1, make([]byte, 4)))
	f.Fuzz(func(_ *testing.T, b []byte) {
		_, _ = parseReplies(b, 1, func(_ uint16, p []byte) error {
			_, err := parseDiagMsg(p)
			return err
		})
	})
}
