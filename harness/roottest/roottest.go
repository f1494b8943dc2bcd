// SPDX-License-Identifier: Apache-2.0

// Package roottest gates tests that need root: they load eBPF programs and
// create network namespaces.
package roottest

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/capability"
)

// EnvRequire is the environment variable that turns a missing privilege into
// a test failure instead of a skip (for CI machines that must run everything).
const EnvRequire = "TCPDROP_REQUIRE_BPF"

// Message is what a test that lacks the privileges is skipped (or failed) with.
const Message = "needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN) to load eBPF programs and " +
	"create network namespaces; run as root, or set " + EnvRequire + "=1 to make this a failure"

// Capabilities a non-root process needs instead: loading and attaching tracing
// programs (CAP_BPF, CAP_PERFMON), nftables and links (CAP_NET_ADMIN), and
// unshare/setns of network namespaces (CAP_SYS_ADMIN).
var needed = []int{unix.CAP_BPF, unix.CAP_PERFMON, unix.CAP_NET_ADMIN, unix.CAP_SYS_ADMIN}

// Verdict is what Require does with a test.
type Verdict int

const (
	Run  Verdict = iota // privileged: go on
	Skip                // not privileged: t.Skip
	Fail                // not privileged and EnvRequire set: t.Fatal
)

func (v Verdict) String() string {
	switch v {
	case Run:
		return "run"
	case Skip:
		return "skip"
	case Fail:
		return "fail"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// Decide is the pure decision behind Require. euid is the effective user id,
// effective the effective capability set (bit n = capability n), require the
// value of EnvRequire.
func Decide(euid int, effective uint64, require string) Verdict {
	if euid == 0 || hasAll(effective) {
		return Run
	}
	if b, err := strconv.ParseBool(require); err == nil && b {
		return Fail
	}
	return Skip
}

func hasAll(effective uint64) bool {
	for _, c := range needed {
		if effective&(1<<uint(c)) == 0 {
			return false
		}
	}
	return true
}

// Require skips t (or fails it, if EnvRequire=1) unless the process runs as
// root or holds CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN.
func Require(t testing.TB) {
	t.Helper()
	switch Decide(os.Geteuid(), capability.Effective(), os.Getenv(EnvRequire)) {
	case Skip:
		t.Skip(Message)
	case Fail:
		t.Fatal(Message)
	}
}
