// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"
)

// guestOutput is what a guest says on ttyS1: /init's markers around each
// binary's -test.v output (shortened from real runs).
const guestOutput = `@@harness modprobe-request -q -- bpf_preload
@@harness booted 5.10.0-46-cloud-amd64 x86_64 uptime=2.17
@@harness module-note xfrm_user: built in
@@harness hook-not-held nftables (holdhooks failed)
@@harness run internal/probe
=== RUN   TestClosedPort
=== RUN   TestClosedPort/IPv4
    probe_kernel_test.go:50: the running kernel has no drop reason NO_SOCKET
=== RUN   TestClosedPort/IPv6
--- FAIL: TestClosedPort (0.20s)
    --- FAIL: TestClosedPort/IPv4 (0.10s)
    --- PASS: TestClosedPort/IPv6 (0.10s)
=== RUN   TestHandshakeOverflowSocket
    owner_kernel_test.go:180: listening on 127.0.0.1:4000
    owner_kernel_test.go:187: this kernel has no TCP_LISTEN_OVERFLOW drop reason
--- SKIP: TestHandshakeOverflowSocket (0.00s)
=== RUN   TestCleanup
    probe_test.go:10: cleanup failed
        second line
--- FAIL: TestCleanup (0.01s)
=== RUN   TestParallel
=== PAUSE TestParallel
=== CONT  TestParallel
--- PASS: TestParallel (0.00s)
FAIL

@@harness exit internal/probe 1 2.50 30.25
@@harness run internal/dropreason
=== RUN   TestKernelNames
    kernel_test.go:20: this kernel has no drop reasons (Linux 5.17+ has)
--- SKIP: TestKernelNames (0.00s)
PASS

@@harness exit internal/dropreason 0 30.25 30.75
@@harness run internal/listeners
=== RUN   TestWatch
panic: test timed out after 10m0s
	running tests:
		TestWatch (10m0s)

@@harness exit internal/listeners 2 30.75 630.75
@@harness run receiver/tcpdropreceiver
=== RUN   TestCollectorEndToEnd
`

func TestParseGuest(t *testing.T) {
	r := parseGuest(guestOutput)
	if !r.Booted || r.Release != "5.10.0-46-cloud-amd64" || r.Machine != "x86_64" || r.Done {
		t.Errorf("booted %v release %q machine %q done %v", r.Booted, r.Release, r.Machine, r.Done)
	}
	if want := "modprobe-request -q -- bpf_preload|module-note xfrm_user: built in|hook-not-held nftables (holdhooks failed)"; strings.Join(r.Notes, "|") != want {
		t.Errorf("notes %q, want %q", r.Notes, want)
	}
	if len(r.Packages) != 4 {
		t.Fatalf("%d packages, want 4: %+v", len(r.Packages), r.Packages)
	}
	type counts struct{ pass, fail, skip int }
	for i, want := range []struct {
		pkg      string
		finished bool
		exit     int
		counts   counts
		failed   bool
	}{
		{"internal/probe", true, 1, counts{2, 2, 1}, true},
		{"internal/dropreason", true, 0, counts{0, 0, 1}, false},
		{"internal/listeners", true, 2, counts{0, 0, 0}, true},
		{"receiver/tcpdropreceiver", false, -1, counts{0, 0, 0}, true},
	} {
		p := r.Packages[i]
		var c counts
		c.pass, c.fail, c.skip = p.counts()
		if p.Package != want.pkg || p.Finished != want.finished || p.Exit != want.exit || c != want.counts || p.failed() != want.failed {
			t.Errorf("package %d: %s finished %v exit %d counts %+v failed %v; want %+v", i, p.Package, p.Finished, p.Exit, c, p.failed(), want)
		}
	}
	probe := r.Packages[0]
	if probe.Seconds != 27.75 {
		t.Errorf("probe took %v s, want 27.75", probe.Seconds)
	}
	for _, tr := range probe.Tests {
		switch tr.Name {
		case "TestHandshakeOverflowSocket":
			if got := tr.skipReason(); got != "owner_kernel_test.go:187: this kernel has no TCP_LISTEN_OVERFLOW drop reason" {
				t.Errorf("skip reason %q", got)
			}
		case "TestClosedPort/IPv4":
			if len(tr.Messages) != 1 || !strings.Contains(tr.Messages[0], "no drop reason NO_SOCKET") {
				t.Errorf("failure messages %q", tr.Messages)
			}
		case "TestCleanup":
			if strings.Join(tr.Messages, "|") != "probe_test.go:10: cleanup failed|second line" {
				t.Errorf("failure messages %q", tr.Messages)
			}
		}
	}
	if crash := r.Packages[2].Crash; len(crash) != 1 || crash[0] != "panic: test timed out after 10m0s" {
		t.Errorf("crash lines %q", crash)
	}
}

func TestRenderResults(t *testing.T) {
	packages := []string{"internal/probe", "internal/dropreason", "internal/listeners", "receiver/tcpdropreceiver"}
	old := kernelRun{Kernel: pkg{Arch: "amd64", Name: "linux-image-5.10.0-46-cloud-amd64", Version: "5.10.262-1"},
		Boot: boot{Accel: "tcg", Attempts: 1, Problem: "the watchdog stopped the guest after 30m0s"}, Report: parseGuest(guestOutput)}
	good := kernelRun{Kernel: pkg{Arch: "amd64", Name: "linux-image-6.18.15+deb13-cloud-amd64", Version: "6.18.15-1~bpo13+1"},
		Boot: boot{Accel: "tcg", Attempts: 2}, Report: parseGuest(`@@harness booted 6.18.15+deb13-cloud-amd64
@@harness run internal/dropreason
=== RUN   TestKernelNames
    kernel_test.go:20: this kernel has no drop reasons (Linux 5.17+ has)
--- SKIP: TestKernelNames (0.00s)
@@harness exit internal/dropreason 0 1 2
@@harness done
`)}
	unbooted := kernelRun{Kernel: pkg{Arch: "arm64", Name: "linux-image-7.3.4+deb13-cloud-arm64", Version: "7.3.4-1~bpo13+1"},
		Boot: boot{Accel: "tcg", Attempts: 2, Problem: "did not boot in 2 attempts: no /init after 2m0s"}}
	out := renderResults([]kernelRun{old, good, unbooted}, packages, map[string]string{"cmd/x": "host tools"})
	for _, want := range []string{
		"| package | 5.10.262 amd64 | 6.18.15 amd64 | 7.3.4 arm64 |",
		"| (guest) | **the watchdog stopped the guest after 30m0s** | 0s, tcg, 2 boots | **DID NOT BOOT** |",
		"| internal/probe | 2 pass, **2 FAIL**, 1 skip | not run | not run |",
		"| internal/dropreason | 0 pass, 1 skip | 0 pass, 1 skip | not run |",
		"| internal/listeners | 0 pass, **exit 2** | not run | not run |",
		"| receiver/tcpdropreceiver | 0 pass, **stopped** | not run | not run |",
		"Not run in the guests: cmd/x (host tools).",
		"5.10.262 amd64 internal/probe TestClosedPort/IPv4\n    probe_kernel_test.go:50: the running kernel has no drop reason NO_SOCKET\n",
		"5.10.262 amd64 internal/probe TestCleanup\n    probe_test.go:10: cleanup failed\n    second line\n",
		"5.10.262 amd64 internal/listeners: panic: test timed out after 10m0s",
		"7.3.4 arm64: did not boot in 2 attempts",
		"| internal/probe | TestHandshakeOverflowSocket | owner_kernel_test.go:187: this kernel has no TCP_LISTEN_OVERFLOW drop reason | 5.10.262 amd64 |",
		"| internal/dropreason | TestKernelNames | kernel_test.go:20: this kernel has no drop reasons (Linux 5.17+ has) | 5.10.262 amd64, 6.18.15 amd64 |",
		"- 5.10.262 amd64: modprobe-request -q -- bpf_preload\n- 5.10.262 amd64: module-note xfrm_user: built in\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "TestClosedPort\n") {
		t.Errorf("a parent whose subtest failed is listed as a failure of its own:\n%s", out)
	}
	if old.ok(packages) || unbooted.ok(packages) || good.ok(packages) {
		t.Error("a kernel with failures, or not booted, or without every package, is ok")
	}
	if !good.ok([]string{"internal/dropreason"}) {
		t.Error("a kernel whose every package passed or skipped is not ok")
	}
}
