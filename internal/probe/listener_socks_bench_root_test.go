// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"io"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// BenchmarkListenerSocksIter: one run of the iterator over every task's open
// files (what SetListeners adds each poll on kernels before 6.11), on this
// machine's tasks; attached here whatever the kernel, to be measured.
func BenchmarkListenerSocksIter(b *testing.B) {
	roottest.Require(b)
	p, err := Open(Options{CountOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	it, err := link.AttachIter(link.IterOptions{Program: p.objs.TcpdropListenerSocksIter})
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	// One to find at least (a plain TCP socket: Go's net.Listen makes an
	// MPTCP one where the kernel has MPTCP, whose file holds no TCP socket).
	fd, err := sandbox.NewForTest(b).Listen(netip.MustParseAddrPort("127.0.0.1:0"), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	for b.Loop() {
		rd, err := it.Open()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rd); err != nil {
			b.Fatal(err)
		}
		rd.Close()
	}
	var ino, addr uint64
	n := 0
	for entries := p.objs.TcpdropListenerSocks.Iterate(); entries.Next(&ino, &addr); {
		n++
	}
	if n == 0 {
		b.Fatal("the iterator found no listening socket")
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	b.ReportMetric(float64(len(fds)), "fds")
	b.ReportMetric(float64(n), "listeners")
}
