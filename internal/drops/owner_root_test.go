// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// handedOut is a drop as Outputs.Drops got it, and when.
type handedOut struct {
	at    time.Time
	event probe.Event
	owner Owner
}

// TestOwnersNamedUnderLoad: a listener that another process holds, behind
// a firewall rule, gets about 1,000 SYNs a second for two seconds. Every
// drop the rule counted is handed out, each naming that process as its
// owner. The time
// from drop to hand-out, and the resolver's work, are logged: figures for
// a shared machine, not asserted.
func TestOwnersNamedUnderLoad(t *testing.T) {
	roottest.Require(t)
	opts := DefaultOptions()
	opts.FlushInterval = 10 * time.Millisecond
	opts.LogRecordsPerKey = 0 // every drop handed out
	e, err := Open(opts, false, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = e.Stop()
		}
	}()
	// The listener is handed to its process before the engine starts:
	// a scan made while this process still held it too would name this
	// process (the lower pid) until the next scan.
	ns := sandbox.NewForTest(t)
	child, addr := ns.ListenInChildForTest(t, "127.0.0.1:0", 16, "")
	rule, err := ns.DropTCPPort(addr.Port())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []handedOut
	e.Start(Outputs{Drops: func(ds []Drop) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, d := range ds {
			got = append(got, handedOut{at: now, event: *d.Event, owner: d.Owner})
		}
	}})

	// Paced: a burst of connects every 20ms for 2s, as a steady client.
	start := time.Now()
	for tick := time.Now(); time.Since(start) < 2*time.Second; tick = tick.Add(20 * time.Millisecond) {
		time.Sleep(time.Until(tick))
		if err := ns.ConnectTimeout(addr, 20, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	dropped, err := rule.Packets()
	if err != nil {
		t.Fatal(err)
	}
	toListener := func() []handedOut {
		mu.Lock()
		defer mu.Unlock()
		var out []handedOut
		for _, h := range got {
			if h.event.Dst == addr && h.event.NetnsInode == ns.Inode() {
				out = append(out, h)
			}
		}
		return out
	}
	waitUntil(t, 5*time.Second, "every drop the rule counted is handed out", func() bool { return uint64(len(toListener())) >= dropped })
	s := e.src.Owners.(*owners.Resolver).Stats() // before Stop closes the kernel's iterator
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true

	hs := toListener()
	if uint64(len(hs)) != dropped {
		t.Fatalf("%d drops to the listener handed out, the rule counted %d", len(hs), dropped)
	}
	var lat []time.Duration
	for _, h := range hs {
		if h.owner.Status != OwnerProcess || h.owner.Process.PID != child.Process.Pid || h.owner.Process.Comm != "sleep" {
			t.Fatalf("a drop at %v, %v after the first: owner %+v; want pid %d (sleep)", h.event.Time, h.event.Time.Sub(hs[0].event.Time), h.owner, child.Process.Pid)
		}
		lat = append(lat, h.at.Sub(h.event.Time))
	}
	slices.Sort(lat)
	t.Logf("%d drops in %v, all named; drop to hand-out: median %v, p99 %v, max %v (first drop's %v); resolver: %d scans (kernel %v) taking %v, longest %v, %d rate-limited",
		len(hs), time.Since(start).Round(time.Millisecond), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1], hs[0].at.Sub(hs[0].event.Time),
		s.Scans, s.Kernel, s.ScanTime, s.LongestScan, s.RateLimited)
}
