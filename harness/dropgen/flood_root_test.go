// SPDX-License-Identifier: Apache-2.0

package dropgen_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// kernel is what the test reads itself from the namespace, so the report's
// own Kernel field is checked rather than trusted.
type kernel struct {
	inSegs, outRsts, inErrs, inCsumErrors, ip4In, ip6In uint64
}

func readKernel(t *testing.T, ns *sandbox.Netns) kernel {
	t.Helper()
	m, err := ns.Netstat()
	if err != nil {
		t.Fatal(err)
	}
	return kernel{m["Tcp:InSegs"], m["Tcp:OutRsts"], m["Tcp:InErrs"], m["Tcp:InCsumErrors"], m["Ip:InReceives"], m["Ip6InReceives"]}
}

func (k kernel) sub(o kernel) kernel {
	return kernel{k.inSegs - o.inSegs, k.outRsts - o.outRsts, k.inErrs - o.inErrs,
		k.inCsumErrors - o.inCsumErrors, k.ip4In - o.ip4In, k.ip6In - o.ip6In}
}

// waitKernel reads the counters until Tcp:InSegs has grown by want (the
// softirq may still be draining) or a second has passed.
func waitKernel(t *testing.T, ns *sandbox.Netns, before kernel, want uint64) kernel {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		d := readKernel(t, ns).sub(before)
		if d.inSegs >= want || time.Now().After(deadline) {
			return d
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run sends opts in a fresh namespace and returns the report and what the
// kernel counted meanwhile, waiting for segs TCP segments per packet sent.
func run(t *testing.T, opts dropgen.Options, segs uint64) (dropgen.Report, kernel) {
	t.Helper()
	ns := sandbox.NewForTest(t)
	before := readKernel(t, ns)
	r, err := dropgen.Run(context.Background(), ns, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	return r, waitKernel(t, ns, before, r.Sent*segs)
}

// TestCountExact: every SYN was sent once, reached TCP with a good checksum
// and was answered by an RST, which TCP received too, in the right family.
func TestCountExact(t *testing.T) {
	roottest.Require(t)
	const n = 1000
	for _, fam := range []int{4, 6} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("ipv%d/workers=%d", fam, workers), func(t *testing.T) {
				r, k := run(t, dropgen.Options{Family: fam, Count: n, Workers: workers}, 2)
				if r.Sent != n || r.Errors != 0 || r.Behind != 0 {
					t.Fatalf("sent %d errors %d behind %d, want %d 0 0", r.Sent, r.Errors, r.Behind, n)
				}
				// The SYN and the RST each count once in Tcp:InSegs.
				want := kernel{inSegs: 2 * n, outRsts: n}
				if fam == 4 {
					want.ip4In = 2 * n
				} else {
					want.ip6In = 2 * n
				}
				if k != want {
					t.Fatalf("kernel counted %+v, want %+v", k, want)
				}
				checkReportKernel(t, r, k)
			})
		}
	}
}

// TestRSTExact: an RST to a closed port is received and not answered.
func TestRSTExact(t *testing.T) {
	roottest.Require(t)
	const n = 1000
	for _, fam := range []int{4, 6} {
		t.Run(fmt.Sprintf("ipv%d", fam), func(t *testing.T) {
			r, k := run(t, dropgen.Options{Family: fam, Count: n, Kind: dropgen.RST}, 1)
			if r.Sent != n || r.Drops != n {
				t.Fatalf("sent %d, expected drops %d, want %d", r.Sent, r.Drops, n)
			}
			if k.inSegs != n || k.outRsts != 0 || k.inErrs != 0 || k.inCsumErrors != 0 {
				t.Fatalf("kernel counted %+v", k)
			}
		})
	}
}

// TestBadChecksumIsCaught proves the counters above can tell: on loopback
// the kernel still verifies the TCP checksum of these packets, so a wrong
// one shows in InCsumErrors and gets no RST.
func TestBadChecksumIsCaught(t *testing.T) {
	roottest.Require(t)
	const n = 100
	for _, fam := range []int{4, 6} {
		t.Run(fmt.Sprintf("ipv%d", fam), func(t *testing.T) {
			_, k := run(t, dropgen.WithBadChecksum(dropgen.Options{Family: fam, Count: n}), 1)
			if k.inSegs != n || k.inCsumErrors != n || k.inErrs != n || k.outRsts != 0 {
				t.Fatalf("kernel counted %+v, want %d checksum errors and no RST", k, n)
			}
		})
	}
}

// TestRateExact checks accounting, not timing: every slot of the schedule
// is sent or reported behind, and the kernel saw exactly what was sent.
func TestRateExact(t *testing.T) {
	roottest.Require(t)
	const rate = 5000
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			r, k := run(t, dropgen.Options{Rate: rate, Duration: time.Second, Workers: workers}, 2)
			if r.Errors != 0 {
				t.Fatalf("errors %d: %v", r.Errors, r.ErrorsBy)
			}
			if got := r.Sent + r.Behind; got != rate {
				t.Fatalf("sent %d + behind %d = %d, want %d scheduled", r.Sent, r.Behind, got, rate)
			}
			if k.inSegs != 2*r.Sent || k.outRsts != r.Sent {
				t.Fatalf("sent %d, kernel counted %+v", r.Sent, k)
			}
			checkReportKernel(t, r, k)
		})
	}
}

// TestInterrupt: cancelling stops the run early and the report stays exact.
func TestInterrupt(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	before := readKernel(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r, err := dropgen.Run(ctx, ns, dropgen.Options{Rate: 1000, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Interrupted || r.Elapsed > 5*time.Second || r.Scheduled() >= 60000 {
		t.Fatalf("not interrupted: %v", r)
	}
	if k := waitKernel(t, ns, before, 2*r.Sent); k.outRsts != r.Sent {
		t.Fatalf("sent %d, kernel answered %d", r.Sent, k.outRsts)
	}
}

// TestDurationFlatOut: a duration alone ends a flat-out run, not interrupted.
func TestDurationFlatOut(t *testing.T) {
	roottest.Require(t)
	r, k := run(t, dropgen.Options{Duration: 100 * time.Millisecond}, 2)
	if r.Interrupted || r.Sent == 0 || r.Elapsed < 100*time.Millisecond {
		t.Fatalf("report %v", r)
	}
	if k.outRsts != r.Sent {
		t.Fatalf("sent %d, kernel answered %d", r.Sent, k.outRsts)
	}
}

// TestRefusesListenedPort: a listener on the target would accept the SYNs.
func TestRefusesListenedPort(t *testing.T) {
	roottest.Require(t)
	ns := sandbox.NewForTest(t)
	var ln net.Listener
	err := ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if _, err := dropgen.Run(context.Background(), ns, dropgen.Options{Port: port, Count: 1}); err == nil {
		t.Fatalf("sent to port %d, which has a listener", port)
	}
}

func checkReportKernel(t *testing.T, r dropgen.Report, k kernel) {
	t.Helper()
	if r.Kernel == nil {
		t.Fatal("report has no kernel counters")
	}
	got := kernel{r.Kernel.TCPInSegs, r.Kernel.TCPOutRsts, r.Kernel.TCPInErrs,
		r.Kernel.TCPInCsumErrors, r.Kernel.IPInReceives, r.Kernel.IP6InReceives}
	if got != k {
		t.Fatalf("report's kernel counters %+v, test read %+v", got, k)
	}
}
