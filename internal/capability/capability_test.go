// SPDX-License-Identifier: Apache-2.0

package capability

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// statusCapEff is CapEff from /proc/thread-self/status: the kernel's own
// rendering of the set Effective reads.
func statusCapEff(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no CapEff in /proc/thread-self/status")
	return 0
}

func TestEffectiveMatchesStatus(t *testing.T) {
	want := statusCapEff(t)
	if got := Effective(); got != want {
		t.Fatalf("Effective() = %#x, /proc/thread-self/status CapEff = %#x", got, want)
	}
	if os.Geteuid() == 0 && Effective() == 0 {
		t.Errorf("root has an empty effective capability set; capget read wrong?")
	}
}

func TestHas(t *testing.T) {
	eff := Effective()
	for _, c := range []int{unix.CAP_NET_ADMIN, unix.CAP_SYS_ADMIN, unix.CAP_BPF, unix.CAP_PERFMON} {
		if got, want := Has(c), eff&(1<<uint(c)) != 0; got != want {
			t.Errorf("Has(%d) = %v, effective set %#x", c, got, eff)
		}
	}
	for _, c := range []int{-1, 64, 1000} {
		if Has(c) {
			t.Errorf("Has(%d) = true for no capability", c)
		}
	}
}
