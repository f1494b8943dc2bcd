// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// vmOptions say how guests are booted.
type vmOptions struct {
	Accel       string        // kvm, tcg, or auto
	CPUs        int           // vCPUs
	MemoryMiB   int           // guest memory
	BootTimeout time.Duration // to reach /init, else the boot is retried
	Timeout     time.Duration // the watchdog: boot and every test
	Lock        string        // a file to hold an flock on while a guest runs ("": none)
}

// kvmWorks tells whether /dev/kvm can run a stock kernel: it must open and
// be backed by kvm_intel or kvm_amd. A paravirtual KVM (kvm_pvm, found on
// some cloud machines) opens but stops a stock kernel at its first
// privileged instruction, so there tcg is used.
func kvmWorks() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	for _, m := range []string{"kvm_intel", "kvm_amd"} {
		if _, err := os.Stat("/sys/module/" + m); err == nil {
			return true
		}
	}
	return false
}

// A boot is what happened to one kernel's guest.
type boot struct {
	Accel    string
	Attempts int
	Wall     time.Duration
	Output   string // the guest's tests port: markers and test output
	Logs     string // the folder of console.log (the console) and tests.log (the tests' port)
	Problem  string // why the guest did not finish ("": it did)
}

const bootMarker = "@@harness booted"

// bootKernel boots k with initrd and returns what the guest reported. The
// kernel's console goes to logs/console.log, the tests' serial port to
// logs/tests.log. A boot that does not reach /init within BootTimeout is
// retried once (under tcg some kernels oops in early boot now and then,
// which says nothing about the project); a guest that started its tests is
// never retried.
func bootKernel(ctx context.Context, o vmOptions, k kernel, initrd, logs string) (boot, error) {
	os.RemoveAll(logs) // the last run's
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return boot{}, err
	}
	o.Timeout *= time.Duration(archs[k.Arch].TimeScale)
	b := boot{Accel: o.Accel, Logs: logs}
	if b.Accel == "auto" {
		b.Accel = "tcg"
		if archs[k.Arch].native() && kvmWorks() {
			b.Accel = "kvm"
		}
	}
	unlock, err := lockFile(o.Lock)
	if err != nil {
		return boot{}, err
	}
	defer unlock()
	t0 := time.Now()
	for retries := 0; ; {
		b.Attempts++
		logf("%s: booting %s (%s, %d vCPUs, %d MiB, attempt %d)", k.label(), k.Release, b.Accel, o.CPUs, o.MemoryMiB, b.Attempts)
		booted, problem, err := runGuest(ctx, o, b.Accel, k, initrd, logs)
		if err != nil {
			return b, err
		}
		out, _ := os.ReadFile(filepath.Join(logs, "tests.log"))
		b.Output, b.Problem = string(out), problem
		if booted {
			b.Wall = time.Since(t0)
			return b, nil
		}
		keep := filepath.Join(logs, fmt.Sprintf("console.attempt%d.log", b.Attempts))
		if err := os.Rename(filepath.Join(logs, "console.log"), keep); err != nil {
			keep = filepath.Join(logs, "console.log") // the next attempt writes over it
		}
		logf("%s: the guest did not reach /init (%s); its console is in %s", k.label(), problem, keep)
		if b.Accel == "kvm" && o.Accel == "auto" {
			b.Accel = "tcg" // kvm may not run this kernel here: not a retry
			continue
		}
		retries++
		if retries > 1 {
			b.Problem = fmt.Sprintf("did not boot in %d attempts: %s", b.Attempts, problem)
			b.Wall = time.Since(t0)
			return b, nil
		}
	}
}

// runGuest runs qemu once, stopping it when it has not reached /init after
// BootTimeout or not finished after Timeout. booted tells whether /init
// started; problem is empty when the guest reported done.
func runGuest(ctx context.Context, o vmOptions, accel string, k kernel, initrd, logs string) (booted bool, problem string, err error) {
	testsLog := filepath.Join(logs, "tests.log")
	os.Remove(testsLog)
	a := archs[k.Arch]
	cmd := exec.CommandContext(ctx, a.QEMU, a.qemuArgs(o, accel, k, initrd, logs)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return false, "", fmt.Errorf("%s (apt-get install --no-install-recommends %s): %w", a.QEMU, a.QEMUPackage, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	started := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case werr := <-exited:
			booted, why := exitProblem(testsLog, werr, &stderr)
			if why != "" {
				why += firstOops(filepath.Join(logs, "console.log"))
			}
			return booted, why, nil
		case <-tick.C:
			if !booted {
				out, _ := os.ReadFile(testsLog)
				booted = bytes.Contains(out, []byte(bootMarker))
			}
			if why := timeoutProblem(o, booted, time.Since(started)); why != "" {
				_ = cmd.Process.Kill()
				<-exited //nolint:errcheck // killed: its status says only that
				return booted, why, nil
			}
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited //nolint:errcheck // killed: its status says only that
			return false, "", ctx.Err()
		}
	}
}

// exitProblem reads the tests' log of a guest that stopped by itself: it
// says whether the guest booted and, unless its tests ended, why it stopped.
func exitProblem(testsLog string, werr error, stderr *bytes.Buffer) (booted bool, why string) {
	out, _ := os.ReadFile(testsLog)
	booted = bytes.Contains(out, []byte(bootMarker))
	if bytes.Contains(out, []byte("\n@@harness done")) {
		return booted, ""
	}
	why = "the guest stopped before its tests ended (a kernel panic? see console.log)"
	if !booted {
		why = "the guest stopped before /init (a kernel panic in early boot?)"
	}
	if werr != nil {
		why = fmt.Sprintf("qemu: %v: %s", werr, tail(stderr.String(), 500))
	}
	return booted, why
}

// firstOops returns ": " and the kernel's first oops and RIP lines from its
// console log, or "" when it has none: what stopped the guest, in the table.
func firstOops(console string) string {
	out, err := os.ReadFile(console)
	if err != nil {
		return ""
	}
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		_, msg, _ := strings.Cut(line, "] ")
		if (strings.HasPrefix(msg, "Oops") || strings.HasPrefix(msg, "RIP:") || strings.HasPrefix(msg, "pc :") || strings.HasPrefix(msg, "Kernel panic")) && len(found) < 3 && !slices.Contains(found, strings.TrimSpace(msg)) {
			found = append(found, strings.TrimSpace(msg))
		}
	}
	if len(found) == 0 {
		return ""
	}
	return ": " + strings.Join(found, "; ")
}

// timeoutProblem says why a guest running for elapsed is to be stopped: no
// /init within the boot timeout, or the watchdog; "" while it may run on.
func timeoutProblem(o vmOptions, booted bool, elapsed time.Duration) string {
	switch {
	case !booted && elapsed > o.BootTimeout:
		return fmt.Sprintf("no /init after %s", o.BootTimeout)
	case elapsed > o.Timeout:
		return fmt.Sprintf("the watchdog stopped the guest after %s", o.Timeout)
	}
	return ""
}

// lockFile holds an exclusive flock on path until unlock is called, so that
// guests of several runs on one machine do not share its cores.
func lockFile(path string) (unlock func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		logf("waiting for the lock %s (another VM runs)", path)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
	}
	return func() { f.Close() }, nil
}
