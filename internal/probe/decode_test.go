// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// encode writes a record the way the kernel program lays it out, through
// the bpf2go mirror of struct drop_event.
func encode(t testing.TB, e tcpdropDropEvent) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.NativeEndian, e); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeIPv4(t *testing.T) {
	raw := encode(t, tcpdropDropEvent{
		TimeNs: 42, Location: 0xffffffff81000010, SockIno: 123456,
		Tgid: 100, Tid: 101, Reason: 3, Netns: 4026531840, Ifindex: 1,
		Sport: 40000, Dport: 9,
		Saddr: [16]uint8{127, 0, 0, 1}, Daddr: [16]uint8{127, 0, 0, 2},
		Family: 4, TcpFlags: uint8(FlagSYN), HasReason: 1, State: 1,
		Comm: [16]int8{'n', 'c'}, Ifname: [16]int8{'l', 'o'},
	})
	var ev Event
	mono, err := decodeEvent(raw, &ev)
	if err != nil {
		t.Fatal(err)
	}
	want := Event{
		PID: 100, TID: 101, Comm: [16]byte{'n', 'c'}, Reason: 3, HasReason: true,
		Location: 0xffffffff81000010,
		Src:      netip.MustParseAddrPort("127.0.0.1:40000"),
		Dst:      netip.MustParseAddrPort("127.0.0.2:9"),
		TCPFlags: FlagSYN, NetnsInode: 4026531840, Ifindex: 1,
		Ifname: [16]byte{'l', 'o'}, SocketInode: 123456, State: 1,
	}
	if mono != 42 || ev != want {
		t.Fatalf("decoded %+v (time %d), want %+v (time 42)", ev, mono, want)
	}
	if ev.CommString() != "nc" || ev.IfnameString() != "lo" || ev.IPVersion() != 4 {
		t.Fatalf("comm %q ifname %q version %d", ev.CommString(), ev.IfnameString(), ev.IPVersion())
	}
}

func TestDecodeIPv6(t *testing.T) {
	src := netip.MustParseAddr("2001:db8::1")
	dst := netip.MustParseAddr("::1")
	raw := encode(t, tcpdropDropEvent{Family: 6, Saddr: src.As16(), Daddr: dst.As16(), Sport: 1, Dport: 2, Kind: uint8(KindReset)})
	var ev Event
	if _, err := decodeEvent(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Src != netip.AddrPortFrom(src, 1) || ev.Dst != netip.AddrPortFrom(dst, 2) || ev.IPVersion() != 6 || ev.Kind != KindReset {
		t.Fatalf("decoded %v -> %v, kind %v", ev.Src, ev.Dst, ev.Kind)
	}
}

// TestDecodeStack: a record with a stack gives its frames; a failed stack
// walk (a negative length) gives none; a plain record after it clears them.
func TestDecodeStack(t *testing.T) {
	var ev Event
	for _, tc := range []struct {
		bytes int64
		want  int
	}{{3 * 8, 3}, {-14, 0}, {1 << 20, MaxStackDepth}} {
		rec := tcpdropDropEventStack{Ev: tcpdropDropEvent{Family: 4}, StackBytes: tc.bytes}
		for i := range rec.Stack {
			rec.Stack[i] = 0xffffffff81000000 + uint64(i)
		}
		var buf bytes.Buffer
		if err := binary.Write(&buf, binary.NativeEndian, rec); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeEvent(buf.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		got := ev.KernelStack()
		if len(got) != tc.want || (tc.want > 0 && got[tc.want-1] != 0xffffffff81000000+uint64(tc.want-1)) {
			t.Errorf("stack of %d bytes: decoded %x", tc.bytes, got)
		}
	}
	if _, err := decodeEvent(encode(t, tcpdropDropEvent{Family: 4}), &ev); err != nil || ev.StackDepth != 0 {
		t.Errorf("a record without a stack left %d frames (%v)", ev.StackDepth, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	var ev Event
	if _, err := decodeEvent(make([]byte, eventSize-1), &ev); !errors.Is(err, errShortEvent) {
		t.Fatalf("short record: err %v", err)
	}
	if _, err := decodeEvent(encode(t, tcpdropDropEvent{Family: 5}), &ev); !errors.Is(err, errFamily) {
		t.Fatalf("family 5: err %v", err)
	}
}

func TestDecodeAllocatesNothing(t *testing.T) {
	raw := encode(t, tcpdropDropEvent{Family: 6, Sport: 1})
	var ev Event
	allocs := testing.AllocsPerRun(100, func() { _, _ = decodeEvent(raw, &ev) })
	if allocs != 0 {
		t.Fatalf("decodeEvent allocates %v times per event", allocs)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(encode(f, tcpdropDropEvent{Family: 4}))
	f.Add(encode(f, tcpdropDropEvent{Family: 6, Sport: 80}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev Event
		_, err := decodeEvent(raw, &ev)
		if err != nil {
			return
		}
		// A record that decodes has a known family, and re-encoding the
		// address bytes it was given gives them back.
		if v := ev.IPVersion(); v != 4 && v != 6 {
			t.Fatalf("decoded IP version %d", v)
		}
		n := 4
		if ev.IPVersion() == 6 {
			n = 16
		}
		src := ev.Src.Addr().AsSlice()
		if !bytes.Equal(src, raw[offSaddr:offSaddr+uintptr(n)]) {
			t.Fatalf("source %v from bytes %x", ev.Src, raw[offSaddr:offSaddr+uintptr(n)])
		}
	})
}

// TestTCPStateNames: the kernel's TCP states (include/net/tcp_states.h) by
// their semantic-convention names; none, and a state added later, have none.
func TestTCPStateNames(t *testing.T) {
	for state, want := range map[TCPState]string{
		0: "", 1: "established", 2: "syn_sent", 3: "syn_received", 4: "fin_wait_1", 5: "fin_wait_2",
		6: "time_wait", 7: "closed", 8: "close_wait", 9: "last_ack", 10: "listen", 11: "closing",
		12: "syn_received", // TCP_NEW_SYN_RECV: a request socket
		13: "closed",       // TCP_BOUND_INACTIVE
		14: "", 255: "",
	} {
		if got := state.String(); got != want {
			t.Errorf("TCPState(%d) = %q, want %q", state, got, want)
		}
	}
}
