// SPDX-License-Identifier: Apache-2.0

package roottest

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/capability"
)

func TestDecide(t *testing.T) {
	all := uint64(0)
	for _, c := range needed {
		all |= 1 << uint(c)
	}
	noBPF := all &^ (1 << unix.CAP_BPF)
	cases := []struct {
		name    string
		euid    int
		caps    uint64
		require string
		want    Verdict
	}{
		{"root", 0, 0, "", Run},
		{"root with require", 0, 0, "1", Run},
		{"caps", 1000, all, "", Run},
		{"caps and more", 1000, ^uint64(0), "1", Run},
		{"user", 1000, 0, "", Skip},
		{"user require", 1000, 0, "1", Fail},
		{"user require true", 1000, 0, "true", Fail},
		{"user require 0", 1000, 0, "0", Skip},
		{"user require garbage", 1000, 0, "yes please", Skip},
		{"missing CAP_BPF", 1000, noBPF, "", Skip},
		{"missing CAP_BPF require", 1000, noBPF, "1", Fail},
		{"missing CAP_SYS_ADMIN", 1000, all &^ (1 << unix.CAP_SYS_ADMIN), "", Skip},
		{"only CAP_SYS_ADMIN", 1000, 1 << unix.CAP_SYS_ADMIN, "", Skip},
	}
	for _, c := range cases {
		if got := Decide(c.euid, c.caps, c.require); got != c.want {
			t.Errorf("%s: Decide(%d, %#x, %q) = %v, want %v", c.name, c.euid, c.caps, c.require, got, c.want)
		}
	}
}

// TestEffectiveCaps checks that capget is read correctly: root (not in a
// restricted container) has all the capabilities Require asks for, and a
// process without them has neither euid 0 nor them.
func TestEffectiveCaps(t *testing.T) {
	caps := capability.Effective()
	if os.Geteuid() == 0 {
		if !hasAll(caps) {
			t.Logf("running as root without all of CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN (caps %#x)", caps)
		}
		if caps == 0 {
			t.Errorf("root has an empty effective capability set; capget read wrong?")
		}
		return
	}
	if caps != 0 {
		t.Logf("non-root with effective caps %#x", caps)
	}
}

func TestRequireRunsHere(t *testing.T) {
	v := Decide(os.Geteuid(), capability.Effective(), os.Getenv(EnvRequire))
	t.Logf("euid %d, caps %#x: verdict %v", os.Geteuid(), capability.Effective(), v)
	Require(t)
	if v != Run {
		t.Fatalf("Require returned although the verdict is %v", v)
	}
}
