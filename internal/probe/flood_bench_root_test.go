// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// BenchmarkFlood floods a closed port in a test namespace with b.N SYNs (two
// drops each: the SYN and the RST the kernel answers with) with the probe in
// each mode, each right after the same flood with nothing attached, and
// reports:
//
//	gen-pkts/s      the flood's rate: what the probe costs the dropping CPU
//	%-of-nothing    that rate against the flood just before it, with nothing
//	                attached: paired, so that the machine's drift over the
//	                run does not favour the modes measured first
//	drops/s         the kernel's drops as the probe counted them
//	lost            events the ring had no room for
//	reader-ns/event CPU of the reading thread per event
//	wakeups/kevent  times the reader was woken per thousand events
//
// empty-program attaches a program that does nothing to the same
// tracepoint: the floor any kfree_skb monitor pays (the tracepoint enabled,
// the program dispatched, per drop). tcp-check-only attaches
// bpf/bench/tcp_check_floor.c, which reads 10 bytes of each packet's IP header to
// tell TCP from the rest, and returns: the floor any monitor of TCP drops
// on kfree_skb pays; what is left above it is all that counting and events
// can cost. tcp-check-only+resets adds an empty program on tcp_send_reset:
// the floor of a monitor of drops and resets, which the flood's RST per SYN
// dispatches a second time.
// wakeup=per-event wakes the reader whenever the ring goes from empty to
// non-empty, as the kernel does by default; wakeup=batched is the probe's.
// limit=200k/s sheds events above that rate in the kernel (shed), as the
// collector did before records per key. excluded has the log filters leave
// out every drop of the flood: it must cost what count-only does.
// per-key=N sends the first N drops of each key on each CPU, and counts the
// rest as repeats (repeated), under the 200k/s limit: per-key=10 is the
// collector's default. +resets adds the reset program, as the collector
// runs by default: each SYN of the flood then also makes a reset, counted
// (resets/s) and sent as events like the drops.
func BenchmarkFlood(b *testing.B) {
	roottest.Require(b)
	ns := sandbox.NewForTest(b)
	for _, mode := range []struct {
		name   string
		attach bool
		opts   Options
	}{
		{"empty-program", false, Options{}},
		{"tcp-check-only", false, Options{}},
		{"tcp-check-only+resets", false, Options{}},
		{"count-only", true, Options{CountOnly: true}},
		{"excluded", true, Options{Filter: excludeEverything(b)}},
		{"wakeup=batched", true, Options{}},
		{"wakeup=per-event", true, Options{WakeupBytes: 1}},
		{"limit=200k/s", true, Options{MaxLogRecordsPerSecond: 200000}},
		{"per-key=1", true, Options{MaxLogRecordsPerSecond: 200000, LogRecordsPerKey: 1}},
		{"per-key=10", true, Options{MaxLogRecordsPerSecond: 200000, LogRecordsPerKey: 10}},
		{"per-key=100", true, Options{MaxLogRecordsPerSecond: 200000, LogRecordsPerKey: 100}},
		{"per-key=1000", true, Options{MaxLogRecordsPerSecond: 200000, LogRecordsPerKey: 1000}},
		{"count-only+resets", true, Options{CountOnly: true, Resets: true}},
		{"per-key=10+resets", true, Options{MaxLogRecordsPerSecond: 200000, LogRecordsPerKey: 10, Resets: true}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			alone, err := dropgen.Run(context.Background(), ns, dropgen.Options{Count: b.N})
			if err != nil {
				b.Fatal(err)
			}
			var p *Probe
			var rd *benchReader
			var floor *tcpCheckFloorObjects
			switch mode.name {
			case "empty-program":
				defer attachEmptyProgram(b).Close()
			case "tcp-check-only", "tcp-check-only+resets":
				floor = attachTCPCheckFloor(b)
				defer floor.Close()
				if mode.name == "tcp-check-only+resets" {
					defer attachEmptyProgramTo(b, "tcp_send_reset").Close()
				}
			}
			if mode.attach {
				if p, err = Open(mode.opts); err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				if !mode.opts.CountOnly {
					rd = startBenchReader(p)
				}
			}
			b.ResetTimer()
			rep, err := dropgen.Run(context.Background(), ns, dropgen.Options{Count: b.N})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rep.Rate(), "gen-pkts/s")
			b.ReportMetric(100*rep.Rate()/alone.Rate(), "%-of-nothing")
			if floor != nil {
				requireFloorRan(b, floor)
			}
			if p == nil {
				return
			}
			counts := waitDrained(b, p, rd)
			drops, resets := packetsByKind(counts)
			b.ReportMetric(float64(drops)/rep.Elapsed.Seconds(), "drops/s")
			if mode.opts.Resets {
				b.ReportMetric(float64(resets)/rep.Elapsed.Seconds(), "resets/s")
			}
			b.ReportMetric(float64(counts.Lost), "lost")
			if mode.opts.MaxLogRecordsPerSecond > 0 {
				b.ReportMetric(float64(counts.Shed), "shed")
			}
			if mode.opts.LogRecordsPerKey > 0 {
				b.ReportMetric(float64(counts.Repeated), "repeated")
			}
			if mode.name == "excluded" {
				b.ReportMetric(float64(counts.Filtered), "filtered")
			}
			if rd != nil {
				p.Close()
				<-rd.done
				if rd.events > 0 {
					b.ReportMetric(float64(rd.cpu.Nanoseconds())/float64(rd.events), "reader-ns/event")
					b.ReportMetric(1000*float64(rd.wakeups)/float64(rd.events), "wakeups/kevent")
				}
			}
		})
	}
}

// packetsByKind sums the counts of drops and of resets.
func packetsByKind(c Counts) (drops, resets uint64) {
	for _, k := range c.ByKey {
		if k.Kind == KindReset {
			resets += k.Packets
		} else {
			drops += k.Packets
		}
	}
	return drops, resets
}

// benchReader reads events on one locked thread, so that the thread's own
// CPU time and context switches are the reader's alone.
type benchReader struct {
	read    atomic.Uint64
	events  uint64
	cpu     time.Duration
	wakeups int64
	done    chan struct{}
}

func startBenchReader(p *Probe) *benchReader {
	r := &benchReader{done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(r.done)
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		var start, end unix.Rusage
		// RUSAGE_THREAD with a valid pointer cannot fail.
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &start)
		close(ready)
		buf := make([]Event, 1024)
		for {
			n, err := p.ReadBatch(buf)
			r.read.Add(uint64(n))
			if err != nil {
				break
			}
		}
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &end)
		r.events = r.read.Load()
		r.cpu = time.Duration(end.Utime.Nano() + end.Stime.Nano() - start.Utime.Nano() - start.Stime.Nano())
		r.wakeups = end.Nvcsw - start.Nvcsw
	}()
	<-ready
	return r
}

// waitDrained waits until the reader has taken every event the kernel
// counted and did not lose, and returns the counts.
func waitDrained(b *testing.B, p *Probe, rd *benchReader) Counts {
	deadline := time.Now().Add(10 * time.Second)
	var counts Counts
	for {
		taken, err := p.TakeCounts()
		if err != nil && !errors.Is(err, ErrClosed) {
			b.Fatal(err)
		}
		if err == nil {
			counts.add(taken)
		}
		total := totalPackets(counts)
		if rd == nil || rd.read.Load()+counts.Lost+counts.Shed+counts.Filtered+counts.Repeated >= total+counts.Uncounted {
			return counts
		}
		if time.Now().After(deadline) {
			b.Fatalf("reader took %d of %d events (lost %d)", rd.read.Load(), total, counts.Lost)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// attachEmptyProgram attaches a program that returns at once to kfree_skb.
func attachEmptyProgram(b *testing.B) io.Closer { return attachEmptyProgramTo(b, "kfree_skb") }

// attachEmptyProgramTo attaches a program that does nothing to the
// tracepoint tp (tp_btf).
func attachEmptyProgramTo(b *testing.B, tp string) io.Closer {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: tp,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		License:      "GPL",
	})
	if err != nil {
		b.Fatal(err)
	}
	defer prog.Close() // the link holds it
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// attachTCPCheckFloor loads bpf/bench/tcp_check_floor.c and attaches it to
// kfree_skb; closing the objects detaches it.
func attachTCPCheckFloor(b *testing.B) *tcpCheckFloorObjects {
	var objs tcpCheckFloorObjects
	if err := loadTcpCheckFloorObjects(&objs, nil); err != nil {
		b.Fatal(err)
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: objs.TcpCheckFloor})
	if err != nil {
		objs.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return &objs
}

// requireFloorRan fails the benchmark unless the yardstick program saw
// TCP packets: a floor measured with a program that never ran would be no
// floor.
func requireFloorRan(b *testing.B, floor *tcpCheckFloorObjects) {
	var seen uint64
	if err := floor.TcpPackets.Get(&seen); err != nil {
		b.Fatal(err)
	}
	if seen == 0 {
		b.Fatal("tcp_check_floor saw no TCP packet during the flood")
	}
}

// BenchmarkProgramCost reports the kernel program's own run time per call
// (the kernel's BPF statistics, switched on for this benchmark only: they
// add two clock reads per call), counting only, counting with every drop
// excluded by the log filters, and sending every event, under a flood of b.N
// SYNs. excluded measures itself and count-only in turn, four floods
// (count-only, excluded, excluded, count-only: a steady drift of a shared
// machine's speed cancels out), and reports its cost against count-only's
// (x-count-only). An excluded drop must cost no more than a counted one
// without an event: near 1. per-key=10 (the collector's default: the
// flood's drops past 10 per key and CPU are repeats) and tcp-check-only
// (bpf/bench/tcp_check_floor.c, the floor) are measured against count-only the
// same way. The +resets modes run the reset program too, on the RST the
// kernel answers each SYN with, and report its run time per call
// (reset-ns/call) beside the drop program's.
func BenchmarkProgramCost(b *testing.B) {
	roottest.Require(b)
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Skipf("kernel BPF statistics: %v", err)
	}
	defer stats.Close()
	ns := sandbox.NewForTest(b)
	for _, mode := range []struct {
		name string
		opts Options
	}{
		{"count-only", Options{CountOnly: true}},
		{"excluded", Options{Filter: excludeEverything(b)}},
		{"per-key=10", Options{LogRecordsPerKey: 10, MaxLogRecordsPerSecond: 200000}},
		{"tcp-check-only", Options{}},
		{"every-event", Options{}},
		{"count-only+resets", Options{CountOnly: true, Resets: true}},
		{"per-key=10+resets", Options{LogRecordsPerKey: 10, MaxLogRecordsPerSecond: 200000, Resets: true}},
		{"ports+resets", Options{Filter: Filter{Ports: []uint16{1}}, Resets: true}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			cost := func() float64 { return programCost(b, ns, mode.opts, b.N) }
			switch mode.name {
			case "count-only", "every-event":
				b.ReportMetric(cost(), "bpf-ns/call")
				return
			case "count-only+resets", "per-key=10+resets", "ports+resets":
				c := programCosts(b, ns, mode.opts, b.N)
				b.ReportMetric(c.drop, "bpf-ns/call")
				b.ReportMetric(c.reset, "reset-ns/call")
				return
			case "tcp-check-only":
				cost = func() float64 { return floorCost(b, ns, b.N) }
			}
			countOnly := Options{CountOnly: true}
			co := programCost(b, ns, countOnly, b.N)
			c := cost() + cost()
			co += programCost(b, ns, countOnly, b.N)
			b.ReportMetric(c/2, "bpf-ns/call")
			b.ReportMetric(c/co, "x-count-only")
		})
	}
}

// floorCost floods n SYNs with bpf/bench/tcp_check_floor.c attached and returns
// its mean run time per call, in ns: what telling TCP from the rest costs.
func floorCost(b *testing.B, ns *sandbox.Netns, n int) float64 {
	var objs tcpCheckFloorObjects
	if err := loadTcpCheckFloorObjects(&objs, nil); err != nil {
		b.Fatal(err)
	}
	defer objs.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: objs.TcpCheckFloor})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	if _, err := dropgen.Run(context.Background(), ns, dropgen.Options{Count: n}); err != nil {
		b.Fatal(err)
	}
	s, err := objs.TcpCheckFloor.Stats()
	if err != nil {
		b.Fatal(err)
	}
	if s.RunCount == 0 {
		b.Fatal("the floor never ran")
	}
	return float64(s.Runtime.Nanoseconds()) / float64(s.RunCount)
}

// excludeEverything is a filter that sends none of the flood's drops: every
// reason of the running kernel excluded, or, on a kernel without reasons,
// only a port the flood does not use let through.
func excludeEverything(b *testing.B) Filter {
	reasons, err := dropreason.FromKernel()
	if err != nil {
		b.Fatal(err)
	}
	if !reasons.Available() {
		return Filter{Ports: []uint16{1}}
	}
	f := Filter{ReasonMode: ExcludedReasons}
	for _, name := range reasons.Names() {
		v, _ := reasons.Value(name)
		f.Reasons = append(f.Reasons, v)
	}
	return f
}

// programCost floods n SYNs with the probe opened with opts and returns the
// drop program's mean run time per call, in ns.
func programCost(b *testing.B, ns *sandbox.Netns, opts Options, n int) float64 {
	return programCosts(b, ns, opts, n).drop
}

// runCosts are the programs' mean run times per call, in ns: the drop
// program's, and the reset program's (0 without Options.Resets).
type runCosts struct{ drop, reset float64 }

// programCosts floods n SYNs with the probe opened with opts and returns
// its programs' run times.
func programCosts(b *testing.B, ns *sandbox.Netns, opts Options, n int) runCosts {
	p, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var rd *benchReader
	if !opts.CountOnly {
		rd = startBenchReader(p)
	}
	if _, err := dropgen.Run(context.Background(), ns, dropgen.Options{Count: n}); err != nil {
		b.Fatal(err)
	}
	s, err := p.objs.TcpdropKfree.Stats()
	if err != nil {
		b.Fatal(err)
	}
	var cost runCosts
	if opts.Resets {
		rs, err := p.objs.TcpdropReset.Stats()
		if err != nil {
			b.Fatal(err)
		}
		if rs.RunCount == 0 {
			b.Fatal("the reset program never ran")
		}
		cost.reset = float64(rs.Runtime.Nanoseconds()) / float64(rs.RunCount)
	}
	if opts.Filter.ReasonMode != AllReasons || len(opts.Filter.Ports) > 0 {
		c, err := p.TakeCounts()
		if err != nil {
			b.Fatal(err)
		}
		if c.Filtered == 0 || c.Filtered < totalPackets(c)/2 {
			b.Fatalf("filtered %d of %d drops: the filter did not exclude the flood", c.Filtered, totalPackets(c))
		}
	}
	if rd != nil {
		p.Close()
		<-rd.done
	}
	if s.RunCount == 0 {
		b.Fatal("the program never ran")
	}
	cost.drop = float64(s.Runtime.Nanoseconds()) / float64(s.RunCount)
	return cost
}
