// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// BenchmarkConnectionChurn measures what the failed-connect and
// retransmission programs cost a host that opens and closes connections
// and loses nothing: b.N loopback connections in a test namespace, each
// connected, accepted and closed, with the probe counting drops only
// (none) and with FailedConnects and Retransmits too, alternately (four
// runs: none, all, all, none, so that a drift of a shared machine's speed
// cancels out). The failed-connect program runs at every TCP state change
// and returns at once unless a connect failed. It reports:
//
//	x-drops-only       the connections' wall time with every program
//	                   against drops only
//	connect-ns/call    the failed-connect program's run time per call (the
//	                   kernel's BPF statistics)
//	calls/conn         its calls per connection (state changes of both ends)
func BenchmarkConnectionChurn(b *testing.B) {
	roottest.Require(b)
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Skipf("kernel BPF statistics: %v", err)
	}
	defer stats.Close()
	dropsOnly := Options{CountOnly: true}
	all := Options{CountOnly: true, FailedConnects: true, Retransmits: true}
	var plain, full time.Duration
	var calls uint64
	var runtime time.Duration
	for _, opts := range []Options{dropsOnly, all, all, dropsOnly} {
		p, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		took := churn(b, b.N)
		if opts.FailedConnects {
			full += took
			s, err := p.objs.TcpdropConnectFailed.Stats()
			if err != nil {
				b.Fatal(err)
			}
			calls += s.RunCount
			runtime += s.Runtime
		} else {
			plain += took
		}
		p.Close()
	}
	if calls == 0 {
		b.Fatal("the failed-connect program never ran")
	}
	b.ReportMetric(float64(full)/float64(plain), "x-drops-only")
	b.ReportMetric(float64(runtime.Nanoseconds())/float64(calls), "connect-ns/call")
	b.ReportMetric(float64(calls)/float64(2*b.N), "calls/conn")
}

// churn makes n connections to a listener, each accepted and both ends
// closed, one at a time, and returns how long they took. Each churn has a
// namespace of its own: the time-wait sockets a churn leaves (the clients
// close first) would slow the next one's search for a free port.
func churn(b *testing.B, n int) time.Duration {
	b.Helper()
	ns := sandbox.NewForTest(b)
	lfd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 4096)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(lfd)
	server, err := sandbox.LocalAddr(lfd)
	if err != nil {
		b.Fatal(err)
	}
	var took time.Duration
	err = ns.Do(func() error {
		start := time.Now()
		for range n {
			fd, sa, err := tcpSocketFor(server)
			if err != nil {
				return err
			}
			if err := unix.Connect(fd, sa); err != nil {
				unix.Close(fd)
				return err
			}
			afd, _, err := unix.Accept(lfd)
			if err != nil {
				unix.Close(fd)
				return err
			}
			unix.Close(fd)
			unix.Close(afd)
		}
		took = time.Since(start)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return took
}
