// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"fmt"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// BenchmarkPoll is one Poll of the whole host, with extra namespaces each
// holding one listener: the cost per namespace is what grows on a container
// host. The descriptor scan is excluded (it runs at most once a second).
func BenchmarkPoll(b *testing.B) {
	roottest.Require(b)
	for _, extra := range []int{0, 10, 100} {
		b.Run(fmt.Sprintf("extra=%d", extra), func(b *testing.B) {
			for range extra {
				n := sandbox.NewForTest(b)
				fd, err := n.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 16)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = unix.Close(fd) })
			}
			w := NewWatcher("/proc", nil)
			b.Cleanup(w.Close)
			_, _ = w.Poll(PollCounters, nil) // includes the first descriptor scan
			b.ReportAllocs()
			for b.Loop() {
				_, _ = w.Poll(PollCounters, nil)
			}
			s := w.Stats()
			b.ReportMetric(float64(s.Namespaces), "netns")
			b.ReportMetric(float64(s.Listeners), "listeners")
			b.ReportMetric(float64(s.FDScanDuration.Microseconds()), "fdscan-µs")
		})
	}
}
