// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"testing"
	"time"
)

// TestBudget: a full budget lets a scan start at once, also one that costs
// more than the burst; the debt is then paid back at share, and quiet
// time refills it up to the burst only.
func TestBudget(t *testing.T) {
	b := budget{share: 0.01, burst: 250 * time.Millisecond}
	t0 := time.Unix(1000, 0)
	if w := b.wait(t0); w != 0 {
		t.Fatalf("a fresh budget waits %v", w)
	}
	b.spend(300*time.Millisecond, t0) // credit -50ms
	if w := b.wait(t0); w != 5*time.Second+1 {
		t.Fatalf("after overdrawing by 50ms: wait %v, want 5s (50ms at 1%%)", w)
	}
	if w := b.wait(t0.Add(5 * time.Second)); w != 1 {
		t.Fatalf("5s later: wait %v, want the last nanosecond", w)
	}
	if w := b.wait(t0.Add(6 * time.Second)); w != 0 {
		t.Fatalf("6s later: wait %v, want none", w)
	}
	b.wait(t0.Add(time.Hour))
	if b.credit != b.burst {
		t.Fatalf("after an hour: credit %v, want the burst %v", b.credit, b.burst)
	}
}
