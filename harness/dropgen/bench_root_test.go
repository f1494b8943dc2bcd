// SPDX-License-Identifier: Apache-2.0

package dropgen_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// BenchmarkFlood sends b.N SYNs as fast as possible; ns/op is per packet.
func BenchmarkFlood(b *testing.B) {
	roottest.Require(b)
	ns := sandbox.NewForTest(b)
	for _, fam := range []int{4, 6} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("ipv%d/workers=%d", fam, workers), func(b *testing.B) {
				r, err := dropgen.Run(context.Background(), ns,
					dropgen.Options{Family: fam, Count: b.N, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				if r.Sent != uint64(b.N) {
					b.Fatalf("sent %d of %d: %v", r.Sent, b.N, r)
				}
				b.ReportMetric(r.Rate(), "packets/s")
			})
		}
	}
}
