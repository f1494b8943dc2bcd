// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"bufio"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// startServer starts the test binary as a server listening on addr in ns
// (see server) and returns its pid and when it called listen(), once it
// has. The server exits when the test ends.
func startServer(t *testing.T, ns *sandbox.Netns, addr netip.AddrPort) (int, time.Time) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), envServer+"="+addr.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Started from a thread inside ns, the server is born in it.
	if err := ns.Do(cmd.Start); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the server said nothing: %v", err)
	}
	ns0, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(line), "listening "), 10, 64)
	if err != nil {
		t.Fatalf("the server said %q", line)
	}
	return cmd.Process.Pid, time.Unix(0, ns0)
}

// seenDrop is what the test keeps of a Drop handed out.
type seenDrop struct {
	time  time.Time
	dst   netip.AddrPort
	netns uint32
	owner Owner
}

// dropRecorder keeps the drops the engine hands out, and the newest counts.
type dropRecorder struct {
	mu     sync.Mutex
	drops  []seenDrop
	counts Counts
}

func (r *dropRecorder) setCounts(c Counts, _ []Listener, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = c
}

// packetsOf is the newest count of the drops owned by pid.
func (r *dropRecorder) packetsOf(pid int) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n uint64
	for _, c := range r.counts.ByKey {
		if c.Status == OwnerProcess && c.Process.PID == pid {
			n += c.Packets
		}
	}
	return n
}

func (r *dropRecorder) add(ds []Drop) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range ds {
		r.drops = append(r.drops, seenDrop{d.Time, d.Dst, d.NetnsInode, d.Owner})
	}
}

// to returns the drops of packets to port in the namespace netns.
func (r *dropRecorder) to(netns uint32, port uint16) []seenDrop {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []seenDrop
	for _, d := range r.drops {
		if d.netns == netns && d.dst.Port() == port {
			out = append(out, d)
		}
	}
	return out
}

// startEngine opens and starts the engine with the defaults, reading the
// ring often, and stops it at the end of the test.
func startEngine(t *testing.T, rec *dropRecorder) *Engine {
	t.Helper()
	opts := DefaultOptions()
	opts.FlushInterval = 10 * time.Millisecond
	opts.LogRecordsPerKey = 0 // every drop handed out
	opts.CollectionInterval = 100 * time.Millisecond
	e, err := Open(opts, false, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	e.Start(Outputs{Drops: rec.add, Counts: rec.setCounts})
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// TestDropsOfANewListenerNameItsOwner: a server process starts listening
// in a new namespace whose firewall drops every SYN to its port, and
// clients send SYNs at once (the first within milliseconds of listen()).
// Every drop the engine hands out names the server as its owner, with its
// pid, there are as many as the rule dropped, and the counts have as many
// for the server: with an engine running
// for a while (the listen-queue poll has not seen the server yet), and
// with one started at the same moment as the server (its first second).
func TestDropsOfANewListenerNameItsOwner(t *testing.T) {
	roottest.Require(t)
	const syns = 5
	for i, startedTogether := range []bool{false, true} {
		name := "engine running"
		if startedTogether {
			name = "engine and server started together"
		}
		t.Run(name, func(t *testing.T) {
			ns := sandbox.NewForTest(t)
			port := uint16(7180 + i)
			addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
			rule, err := ns.DropTCPPort(port)
			if err != nil {
				t.Fatal(err)
			}
			rec := &dropRecorder{}
			var pid int
			var listened time.Time
			if startedTogether {
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); startEngine(t, rec) }()
				pid, listened = startServer(t, ns, addr)
				wg.Wait()
			} else {
				startEngine(t, rec)
				// Time is the condition: the server must listen well after
				// the engine's first poll, which nothing outside it shows.
				time.Sleep(1500 * time.Millisecond)
				pid, listened = startServer(t, ns, addr)
			}
			sent := time.Now()
			if err := ns.ConnectTimeout(addr, syns, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			dropped, err := rule.Packets()
			if err != nil {
				t.Fatal(err)
			}
			if dropped < syns {
				t.Fatalf("the rule dropped %d SYNs, want %d at least", dropped, syns)
			}
			waitUntil(t, 5*time.Second, "every drop the rule counted is handed out, named for the server", func() bool {
				return len(rec.to(ns.Inode(), port)) >= int(dropped) && rec.packetsOf(pid) >= dropped
			})
			time.Sleep(200 * time.Millisecond) // any extra would show
			got := rec.to(ns.Inode(), port)
			if len(got) != int(dropped) {
				t.Fatalf("the engine handed out %d drops to port %d, the rule dropped %d", len(got), port, dropped)
			}
			for _, d := range got {
				if d.owner.Status != OwnerProcess || d.owner.Process.PID != pid {
					t.Errorf("a SYN dropped %v after listen(): owner %s pid %d, want the server, pid %d",
						d.time.Sub(listened), d.owner.Status, d.owner.Process.PID, pid)
				}
			}
			if n := rec.packetsOf(pid); n != dropped {
				t.Errorf("the counts have %d drops of the server's, the rule dropped %d", n, dropped)
			}
			t.Logf("server pid %d; SYNs sent from %v after listen(), dropped from %v after it; %d drops, all the server's",
				pid, sent.Sub(listened), got[0].time.Sub(listened), len(got))
		})
	}
}
