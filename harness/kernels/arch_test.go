// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"
)

// Each architecture's guest has the kernel's console on the machine's own
// first port and a second port, into tests.log, that is the one /init
// writes to (TestsTTY).
func TestQEMUArgs(t *testing.T) {
	o := vmOptions{CPUs: 2, MemoryMiB: 2048}
	k := kernel{Image: "/k/vmlinuz"}
	for name, want := range map[string][]string{
		"amd64": {"-accel tcg -cpu max -smp 2 -m 2048 ", "console=ttyS0 ",
			"-serial file:/logs/console.log -serial file:/logs/tests.log"},
		"arm64": {"-accel tcg -cpu max -M virt -smp 2 ", "console=ttyAMA0 ",
			"-serial file:/logs/console.log -chardev file,id=tests,path=/logs/tests.log -device pci-serial,chardev=tests"},
	} {
		a := archs[name]
		got := strings.Join(a.qemuArgs(o, "tcg", k, "/i.cpio", "/logs"), " ")
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", name, got, w)
			}
		}
		if !strings.Contains(got, "-kernel /k/vmlinuz -initrd /i.cpio") {
			t.Errorf("%s: %q boots no kernel", name, got)
		}
	}
	if got := strings.Join(archs["amd64"].qemuArgs(o, "kvm", k, "/i", "/l"), " "); !strings.HasPrefix(got, "-accel kvm -cpu host ") {
		t.Errorf("under kvm: %q, want the host's CPU", got)
	}
	if archs["amd64"].TestsTTY != "ttyS1" || archs["arm64"].TestsTTY != "ttyS0" {
		t.Error("the tests' port: ttyS1 on a PC (after the console's ttyS0), ttyS0 on virt (the PCI 16550; the console is the PL011)")
	}
}

// A TimeScale of 0 would give every test binary no time at all.
func TestTimeScale(t *testing.T) {
	for name, a := range archs {
		if a.TimeScale < 1 {
			t.Errorf("%s: TimeScale %d", name, a.TimeScale)
		}
	}
	if archs["arm64"].TimeScale <= archs["amd64"].TimeScale {
		t.Error("arm64 guests, emulated on x86-64, get no more time than amd64 ones")
	}
}
