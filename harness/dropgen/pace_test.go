// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestSlots(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want uint64
	}{
		{Options{}, unlimited},
		{Options{Count: 1000}, 1000},
		{Options{Duration: time.Second}, unlimited}, // flat out: the clock ends it
		{Options{Rate: 5000, Duration: time.Second}, 5000},
		{Options{Rate: 5000, Duration: time.Second, Count: 42}, 42},
		{Options{Rate: 3, Duration: 1500 * time.Millisecond}, 5}, // slots at 0, 1/3 ... 4/3 s
		{Options{Rate: 1, Duration: time.Second}, 1},
	} {
		if got := slots(c.o); got != c.want {
			t.Errorf("slots(%+v) = %d, want %d", c.o, got, c.want)
		}
	}
}

// TestPacerFlatOut checks that workers split the slots exactly.
func TestPacerFlatOut(t *testing.T) {
	const total, workers = 1001, 3
	seen := map[uint64]int{}
	for id := range workers {
		p := newPacer(0, total, workers, id, DefaultSlack)
		for !p.done() {
			first, n, behind, _, wait := p.step(0, 64)
			if behind != 0 || wait != 0 || n == 0 {
				t.Fatalf("flat out: behind %d wait %v n %d", behind, wait, n)
			}
			for i := range n {
				seen[first+uint64(i)*workers]++
			}
		}
	}
	if len(seen) != total {
		t.Fatalf("got %d distinct slots, want %d", len(seen), total)
	}
	for g, n := range seen {
		if g >= total || n != 1 {
			t.Fatalf("slot %d handed out %d times", g, n)
		}
	}
}

// TestPacerOpenLoop drives the pacer with a jumpy fake clock: every slot is
// sent or skipped exactly once, never early, and skipped only when late.
func TestPacerOpenLoop(t *testing.T) {
	const rate, total, workers = 5000, 5000, 2
	slack := 2 * time.Millisecond
	rng := rand.New(rand.NewPCG(1, 2))
	sent, behind := map[uint64]bool{}, uint64(0)
	for id := range workers {
		p := newPacer(rate, total, workers, id, slack)
		now := time.Duration(0)
		for !p.done() {
			first, n, b, lag, wait := p.step(now, 8)
			behind += b
			for i := range n {
				g := first + uint64(i)*workers
				if sent[g] {
					t.Fatalf("slot %d sent twice", g)
				}
				sent[g] = true
				if at := p.at(g); at > now {
					t.Fatalf("slot %d sent at %v, due at %v", g, now, at)
				} else if now-at > slack {
					t.Fatalf("slot %d sent %v late, slack %v", g, now-at, slack)
				}
			}
			if n > 0 && lag != now-p.at(first) {
				t.Fatalf("lag %v, want %v", lag, now-p.at(first))
			}
			switch {
			case wait > 0:
				now += wait
			case rng.IntN(50) == 0:
				now += time.Duration(rng.IntN(20)) * time.Millisecond // a stall
			default:
				now += time.Duration(rng.IntN(300)) * time.Microsecond
			}
		}
	}
	if behind == 0 {
		t.Fatal("the stalls should have made the pacer skip slots")
	}
	if got := uint64(len(sent)) + behind; got != total {
		t.Fatalf("sent %d + behind %d = %d, want %d", len(sent), behind, got, total)
	}
}

func TestPacerWaitsForFirstSlot(t *testing.T) {
	p := newPacer(1000, unlimited, 2, 1, DefaultSlack) // worker 1 owns slot 1, due at 1ms
	if _, n, _, _, wait := p.step(0, 64); n != 0 || wait != time.Millisecond {
		t.Fatalf("at 0: n %d wait %v, want 0 and 1ms", n, wait)
	}
	if first, n, _, _, _ := p.step(time.Millisecond, 64); n != 1 || first != 1 {
		t.Fatalf("at 1ms: first %d n %d, want 1 and 1", first, n)
	}
}
