// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
)

// An arch is what differs between the architectures the guests run: the
// qemu that emulates it, its machine, and the serial ports. Its name is
// both Debian's and Go's (GOARCH): the two agree for amd64 and arm64.
type arch struct {
	Name        string
	Uname       string   // the guest's uname -m
	QEMU        string   // the qemu-system binary
	QEMUPackage string   // the Debian package that has it
	Machine     []string // the machine's arguments
	Console     string   // the kernel's console: the machine's first serial port
	// TimeScale multiplies the time a guest's tests are given (each test
	// binary's timeout, the guest's watchdog): an arm64 guest is emulated
	// instruction by instruction on an x86-64 host, and internal/probe's
	// churn and flood tests alone (100,000 and 80,000 sockets) took 550 s
	// of its 10-minute timeout in the arm64 6.1 guest.
	TimeScale int
	// TestsTTY is, in the guest, the serial port the tests write to (the
	// one testsPort adds).
	TestsTTY  string
	testsPort func(file string) []string
}

var archs = map[string]arch{
	"amd64": {
		Name: "amd64", Uname: "x86_64", QEMU: "qemu-system-x86_64", QEMUPackage: "qemu-system-x86",
		Machine: nil, // qemu's default, a PC
		Console: "ttyS0", TestsTTY: "ttyS1", TimeScale: 1,
		testsPort: func(file string) []string { return []string{"-serial", "file:" + file} },
	},
	// The virt machine has one UART of its own (a PL011, ttyAMA0): the
	// tests get a 16550 on its PCI bus, which Debian's arm64 kernels drive
	// with the built-in 8250 driver (virtio's console is a module there).
	"arm64": {
		Name: "arm64", Uname: "aarch64", QEMU: "qemu-system-aarch64", QEMUPackage: "qemu-system-arm",
		Machine: []string{"-M", "virt"},
		Console: "ttyAMA0", TestsTTY: "ttyS0", TimeScale: 3,
		testsPort: func(file string) []string {
			return []string{"-chardev", "file,id=tests,path=" + file, "-device", "pci-serial,chardev=tests"}
		},
	},
}

// qemuArgs is the command line of a guest of this architecture: kernel,
// initramfs and the two serial ports into logs. The CPU is qemu's "max"
// (every feature it emulates) under tcg, the host's under kvm.
func (a arch) qemuArgs(o vmOptions, accel string, k kernel, initrd, logs string) []string {
	// random.trust_cpu: the entropy pool is ready at once, else getrandom()
	// blocks the Go runtime at start on 5.10. panic=-1 and -no-reboot: a
	// panic ends qemu instead of hanging.
	cmdline := "console=" + a.Console + " panic=-1 rdinit=/init random.trust_cpu=on loglevel=4"
	cpu := "max"
	if accel == "kvm" {
		cpu = "host"
	}
	args := append([]string{"-accel", accel, "-cpu", cpu}, a.Machine...)
	args = append(args, "-smp", fmt.Sprint(o.CPUs), "-m", fmt.Sprint(o.MemoryMiB),
		"-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
		"-kernel", k.Image, "-initrd", initrd, "-append", cmdline,
		"-serial", "file:"+filepath.Join(logs, "console.log"))
	return append(args, a.testsPort(filepath.Join(logs, "tests.log"))...)
}

// native tells whether the host runs this architecture: only then can KVM
// run its guests.
func (a arch) native() bool {
	return a.Name == runtime.GOARCH
}

func archNames() []string {
	var names []string
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
