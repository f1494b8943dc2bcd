// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"net/netip"
	"testing"
)

// snap builds a snapshot of namespace 1 (cookie 9) with the given counters
// and listeners (socket cookie -> sk_drops).
func snap(over, drops uint64, ls ...[2]uint64) snapshot {
	s := snapshot{netns: 1, cookie: 9, counters: nsCounters{ListenOverflows: over, ListenDrops: drops}}
	for _, l := range ls {
		s.listeners = append(s.listeners, Listener{Netns: 1, Cookie: l[0], Inode: l[0] + 1000,
			Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(l[0])), Drops: l[1]})
	}
	return s
}

type share struct {
	cookie, newDrops, over, drops uint64
	est                           bool
}

func shares(os []Overflow) []share {
	var out []share
	for _, o := range os {
		out = append(out, share{o.Cookie, o.NewDrops, o.Overflows, o.ListenDrops, o.Estimated})
	}
	return out
}

func TestUpdate(t *testing.T) {
	steps := []struct {
		name string
		s    snapshot
		want []share
	}{
		{"baseline", snap(100, 120, [2]uint64{80, 50}), nil},
		{"quiet", snap(100, 120, [2]uint64{80, 50}), nil},
		{"one listener grows", snap(118, 138, [2]uint64{80, 68}), []share{{80, 18, 18, 18, false}}},
		{"ACK path: sk_drops counts double", snap(120, 140, [2]uint64{80, 72}), []share{{80, 4, 2, 2, false}}},
		{"a new listener counts from zero", snap(126, 146, [2]uint64{80, 72}, [2]uint64{443, 6}),
			[]share{{443, 6, 6, 6, false}}},
		{"two grow: split by sk_drops", snap(136, 156, [2]uint64{80, 75}, [2]uint64{443, 13}),
			[]share{{80, 3, 3, 3, true}, {443, 7, 7, 7, true}}},
		{"counted, but no sk_drops moved: to the last grown", snap(140, 160, [2]uint64{80, 75}, [2]uint64{443, 13}),
			[]share{{80, 0, 1, 1, true}, {443, 0, 3, 3, true}}},
		{"sk_drops but no overflow (defer-accept ACKs)", snap(140, 160, [2]uint64{80, 75}, [2]uint64{443, 15}),
			[]share{{443, 2, 0, 0, false}}},
		{"the listener closed: unattributed", snap(145, 165, [2]uint64{80, 75}), []share{{0, 0, 5, 5, true}}},
		{"sk_drops wraps at 32 bits", snap(145, 165, [2]uint64{80, 75}, [2]uint64{8080, 1 << 32}), nil},
		{"wrap", snap(147, 167, [2]uint64{80, 75}, [2]uint64{8080, 1}), []share{{8080, 1, 2, 2, false}}},
		{"counters went back: another namespace, baseline", snap(3, 3, [2]uint64{80, 1}), nil},
		{"after the new baseline", snap(4, 4, [2]uint64{80, 2}), []share{{80, 1, 1, 1, false}}},
	}
	w := NewWatcher("/nonexistent", nil)
	w.atStart = map[uint32]bool{1: true} // there at the first Poll: a baseline
	for _, st := range steps {
		got := shares(w.update(st.s, nil, nil))
		if len(got) != len(st.want) {
			t.Fatalf("%s: got %+v, want %+v", st.name, got, st.want)
		}
		for i := range got {
			if got[i] != st.want[i] {
				t.Fatalf("%s: got %+v, want %+v", st.name, got, st.want)
			}
		}
	}
	// The same inode with another netns cookie is another namespace,
	// created since: it counts from zero.
	s := snap(10, 10, [2]uint64{80, 10})
	s.cookie = 10
	if got := shares(w.update(s, nil, nil)); len(got) != 1 || got[0] != (share{80, 10, 10, 10, false}) {
		t.Fatalf("a new namespace under a reused inode reported %+v, want its 10 since creation", got)
	}
}

// TestNewNamespace: a namespace not there at the first Poll counts from
// zero, one that was takes a baseline.
func TestNewNamespace(t *testing.T) {
	w := NewWatcher("/nonexistent", nil)
	if got := shares(w.update(snap(7, 8, [2]uint64{80, 7}), nil, nil)); len(got) != 1 || got[0] != (share{80, 7, 7, 8, false}) {
		t.Fatalf("a new namespace reported %+v, want its 7 overflows since creation", got)
	}
	w = NewWatcher("/nonexistent", nil)
	w.atStart = map[uint32]bool{1: true}
	if got := w.update(snap(7, 8, [2]uint64{80, 7}), nil, nil); len(got) != 0 {
		t.Fatalf("a namespace there at the start reported %+v, want a baseline", got)
	}
}

// TestUpdateInterrupted: a listener missing from an interrupted dump keeps
// its last value, so it does not count from zero when it reappears.
func TestUpdateInterrupted(t *testing.T) {
	w := NewWatcher("/nonexistent", nil)
	w.update(snap(0, 0, [2]uint64{80, 50}, [2]uint64{443, 7}), nil, nil)
	s := snap(0, 0, [2]uint64{80, 50})
	s.interrupted = true
	if got := w.update(s, nil, nil); len(got) != 0 {
		t.Fatalf("interrupted dump: %+v", got)
	}
	if got := shares(w.update(snap(1, 1, [2]uint64{80, 50}, [2]uint64{443, 8}), nil, nil)); len(got) != 1 || got[0] != (share{443, 1, 1, 1, false}) {
		t.Fatalf("after the interrupted dump: %+v", got)
	}
}

// TestForget: a namespace discovered but not read in a Poll keeps its
// state, so the growth since its last read is counted at the next one; a
// namespace no longer discovered starts afresh.
func TestForget(t *testing.T) {
	w := NewWatcher("/nonexistent", nil)
	w.atStart = map[uint32]bool{1: true}
	w.update(snap(10, 10, [2]uint64{80, 50}), nil, nil)
	w.forget(map[uint32]string{1: "/proc/123/ns/net"}) // discovered; its read failed
	if got := shares(w.update(snap(16, 16, [2]uint64{80, 56}), nil, nil)); len(got) != 1 || got[0] != (share{80, 6, 6, 6, false}) {
		t.Fatalf("after a poll that could not read the namespace: %+v, want the 6 since the last read", got)
	}
	w.forget(map[uint32]string{})
	if got := w.update(snap(20, 20, [2]uint64{80, 60}), nil, nil); len(got) != 0 {
		t.Fatalf("a namespace seen again after it was gone reported %+v; want a new baseline", got)
	}
	w.forget(map[uint32]string{})
	s := snap(5, 5, [2]uint64{80, 5})
	s.cookie = 10 // another namespace under the inode: new
	if got := w.update(s, nil, nil); len(got) != 1 || got[0].Overflows != 5 {
		t.Fatalf("a new namespace under a forgotten one's inode reported %+v; want its 5 since creation", got)
	}
}

// TestListenersUntilForgotten: the listeners of a namespace are kept as
// last dumped while it is discovered (also when a Poll could not read it
// or did not dump it), and dropped when it is forgotten; the Version moves
// when the sockets change, not when only their counters do.
func TestListenersUntilForgotten(t *testing.T) {
	w := NewWatcher("/nonexistent", nil)
	w.update(snap(0, 0, [2]uint64{80, 1}, [2]uint64{443, 2}), nil, nil)
	other := snapshot{netns: 2, cookie: 7, listeners: []Listener{{Netns: 2, Cookie: 22}}}
	w.update(other, nil, nil)
	v := w.version
	if got := w.listenersOfAll(); len(got) != 3 || got[0].Cookie != 80 || got[1].Cookie != 443 || got[2].Cookie != 22 {
		t.Fatalf("got %+v; want namespace 1's two listeners, then namespace 2's", got)
	}
	w.update(snap(0, 0, [2]uint64{80, 5}, [2]uint64{443, 2}), nil, nil)
	if w.version != v {
		t.Errorf("version moved from %d to %d on new sk_drops alone", v, w.version)
	}
	w.update(snap(0, 0, [2]uint64{80, 5}), nil, nil)
	if w.version == v {
		t.Errorf("version did not move when a listener closed")
	}
	v = w.version
	if w.forget(map[uint32]string{1: "/proc/1/ns/net", 2: "/proc/2/ns/net"}) || w.version != v {
		t.Errorf("forget reported a change when every namespace was discovered")
	}
	if !w.forget(map[uint32]string{1: "/proc/1/ns/net"}) || w.version == v {
		t.Errorf("forgetting namespace 2 did not report its listener gone")
	}
	if got := w.listenersOfAll(); len(got) != 1 || got[0].Cookie != 80 {
		t.Fatalf("after namespace 2 was forgotten: %+v", got)
	}
}

// closedListener is what the kernel kept of the listener with the given
// cookie of namespace 1 as it stopped listening: its final sk_drops.
func closedListener(cookie, drops uint64) Listener {
	return Listener{Netns: 1, Cookie: cookie, Inode: cookie + 1000, Drops: drops}
}

// TestClosedListeners: a listener that stopped listening since the last
// Poll has its last overflows by its final sk_drops, which the kernel kept;
// one that stopped after the snapshot's dump has them at the next Poll.
func TestClosedListeners(t *testing.T) {
	steps := []struct {
		name   string
		s      snapshot
		closed []Listener
		want   []share
	}{
		{"baseline", snap(10, 10, [2]uint64{80, 50}, [2]uint64{443, 7}), nil, nil},
		{"80 overflowed 5 times, then closed", snap(15, 15, [2]uint64{443, 7}), []Listener{closedListener(80, 55)},
			[]share{{80, 5, 5, 5, false}}},
		{"443 overflowed 2 times, closed after the dump: at the next Poll", snap(17, 17, [2]uint64{443, 8}), []Listener{closedListener(443, 9)},
			[]share{{443, 1, 2, 2, false}}},
		{"the rest of 443's, and a listener born and closed between two Polls", snap(20, 20), []Listener{closedListener(0, 2)},
			[]share{{443, 1, 1, 1, true}, {0, 2, 2, 2, true}}},
	}
	w := NewWatcher("/nonexistent", nil)
	w.atStart = map[uint32]bool{1: true}
	for _, st := range steps {
		got := shares(w.update(st.s, st.closed, nil))
		if len(got) != len(st.want) {
			t.Fatalf("%s: got %+v, want %+v", st.name, got, st.want)
		}
		for i := range got {
			if got[i] != st.want[i] {
				t.Fatalf("%s: got %+v, want %+v", st.name, got, st.want)
			}
		}
	}
}

// TestCreatedSinceStart: a namespace the first Poll finds counts from its
// creation if it was not there at the Watcher's start mark, else from then.
func TestCreatedSinceStart(t *testing.T) {
	for _, c := range []struct {
		mark map[uint32]bool
		want int
	}{{map[uint32]bool{2: true}, 1}, {map[uint32]bool{1: true}, 0}, {nil, 0}} {
		w := NewWatcher("/nonexistent", nil)
		w.existing = c.mark
		w.atStart = map[uint32]bool{1: true}
		if got := w.update(snap(7, 8, [2]uint64{80, 7}), nil, nil); len(got) != c.want {
			t.Errorf("namespace 1, there at the mark %v: reported %+v, want %d shares", c.mark, got, c.want)
		}
	}
}
