// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/kallsyms"
)

// forEachLoopback runs test as a subtest for IPv4 and for IPv6, each with
// a network namespace of its own and its loopback address; the IPv6 one
// skips on a kernel without IPv6.
func forEachLoopback(t *testing.T, test func(t *testing.T, ns *sandbox.Netns, addr netip.Addr)) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			ns := sandbox.NewForTest(t)
			addr := netip.MustParseAddr(ip)
			if addr.Is6() && !ns.HasIPv6() {
				t.Skip("no IPv6")
			}
			test(t, ns, addr)
		})
	}
}

// netstat is the namespace's counters (sandbox.Netns.Netstat), such as
// Tcp:OutRsts.
func netstat(t *testing.T, ns *sandbox.Netns) map[string]uint64 {
	t.Helper()
	c, err := ns.Netstat()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testFlush keeps the tests' waits for straggling events short.
const testFlush = 10 * time.Millisecond

// openProbe loads the probe for one test and closes it at the end.
func openProbe(t *testing.T, opts Options) *Probe {
	t.Helper()
	roottest.Require(t)
	if opts.FlushInterval == 0 {
		opts.FlushInterval = testFlush
	}
	p, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// collector reads every event the probe delivers, in the background.
type collector struct {
	mu     sync.Mutex
	events []Event
	err    error
	done   chan struct{}
}

func collect(t *testing.T, p *Probe) *collector {
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		buf := make([]Event, 256)
		for {
			n, err := p.ReadBatch(buf)
			c.mu.Lock()
			c.events = append(c.events, buf[:n]...)
			if err != nil && !errors.Is(err, ErrClosed) {
				c.err = err
			}
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		p.Close()
		<-c.done
		if c.err != nil {
			t.Errorf("reading events: %v", c.err)
		}
	})
	return c
}

// matching returns the events so far for which keep is true.
func (c *collector) matching(keep func(*Event) bool) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Event
	for i := range c.events {
		if keep(&c.events[i]) {
			out = append(out, c.events[i])
		}
	}
	return out
}

// atLeast waits until want events match, or 10s, and returns those that
// match by then: the caller says what a shortfall means.
func (c *collector) atLeast(want int, keep func(*Event) bool) []Event {
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.matching(keep)
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(testFlush)
	}
}

// waitFor waits until want events match, then for a quiet spell in which
// no more may arrive, and returns them. Waiting is bounded; the count is
// exact.
func (c *collector) waitFor(t *testing.T, want int, keep func(*Event) bool) []Event {
	t.Helper()
	c.atLeast(want, keep)
	time.Sleep(20 * testFlush) // nothing more may arrive: extra events would show up here
	got := c.matching(keep)
	if len(got) != want {
		t.Fatalf("got %d matching events, want exactly %d", len(got), want)
	}
	return got
}

// kernelNames resolves reasons and locations the way the receiver does.
type kernelNames struct {
	reasons *dropreason.Table
	syms    *kallsyms.Symbolizer
}

func loadNames(t *testing.T) kernelNames {
	t.Helper()
	reasons, err := dropreason.FromKernel()
	if err != nil {
		t.Fatal(err)
	}
	syms, err := kallsyms.LoadFile("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	if syms.Restricted() {
		t.Fatal("/proc/kallsyms hides addresses (kernel.kptr_restrict): cannot check functions")
	}
	return kernelNames{reasons, syms}
}

func (k kernelNames) reasonValue(t *testing.T, name string) uint32 {
	t.Helper()
	v, ok := k.reasons.Value(name)
	if !ok {
		t.Fatalf("the running kernel has no drop reason %s", name)
	}
	return v
}

// reasonWanted is the reason a drop of a known kind must have on the running
// kernel: the named one where the kernel passes reasons (5.17+), none (Reason
// 0, HasReason false) where it passes none.
type reasonWanted struct {
	has   bool
	value uint32
	name  string
}

// expect returns the reasonWanted for drops that 5.17+ names name. A kernel
// with reasons but without that one fails the test.
func (k kernelNames) expect(t *testing.T, name string) reasonWanted {
	t.Helper()
	if !k.reasons.Available() {
		return reasonWanted{name: "none (this kernel passes no drop reasons)"}
	}
	return reasonWanted{has: true, value: k.reasonValue(t, name), name: name}
}

func (r reasonWanted) matches(e *Event) bool { return e.HasReason == r.has && e.Reason == r.value }

// got names e's reason for a failure message.
func (k kernelNames) got(e *Event) string {
	if !e.HasReason {
		return "none"
	}
	return k.reasons.Name(e.Reason)
}
