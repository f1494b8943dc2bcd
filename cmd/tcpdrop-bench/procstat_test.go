// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses: fields count from the last ')'.
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 567 0 0 20 0 9 0 100 1000000 2000 18446744073709551615\n"
	ut, st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if ut != 1234 || st != 567 {
		t.Fatalf("utime %d stime %d, want 1234 567", ut, st)
	}
	for _, bad := range []string{"", "1 (x S 1 2", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 5 6"} {
		if _, _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) gave no error", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	text := "Name:\totelcol-tcpdrop\nVmPeak:\t 1000 kB\nVmHWM:\t   75164 kB\nVmRSS:\t   70000 kB\n" +
		"Threads:\t9\nvoluntary_ctxt_switches:\t1234\nnonvoluntary_ctxt_switches:\t56\n"
	s, err := parseStatus([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if s.PeakRSS != 75164*1024 || s.Voluntary != 1234 {
		t.Fatalf("%+v", s)
	}
	if _, err := parseStatus([]byte("Name:\tx\n")); err == nil {
		t.Error("no switch counts: want an error")
	}
	if _, err := parseStatus([]byte("voluntary_ctxt_switches:\tmany\n")); err == nil {
		t.Error("bad number: want an error")
	}
}

// A real process: this one. Reading /proc/self needs no privilege.
func TestSampleProcSelf(t *testing.T) {
	before, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
		runtime.Gosched() // spins on the CPU: no sleep, no system call
	}
	time.Sleep(10 * time.Millisecond) // wall time passes with no CPU time: what the sample tells apart
	after, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	d := after.sub(before)
	if after.PeakRSS == 0 || after.Voluntary == 0 || after.CPU <= 0 {
		t.Fatalf("sample %+v", after)
	}
	if d.CPU < 0 || d.PeakRSS != after.PeakRSS {
		t.Fatalf("delta %+v", d)
	}
	if _, err := sampleProc(-1); err == nil {
		t.Error("no such process: want an error")
	}
}

func TestStatCPUSkipsKernelThreads(t *testing.T) {
	user := "10 (go) S 1 10 10 0 -1 4194560 0 0 0 0 300 200 0 0 20 0 1 0 1 1 1\n"
	kthread := "20 (ksoftirqd/0) S 2 0 0 0 -1 69238848 0 0 0 0 300 200 0 0 20 0 1 0 1 1 1\n"
	if cpu, ok := statCPU([]byte(user)); !ok || cpu != 5*time.Second {
		t.Fatalf("user process: %v %v", cpu, ok)
	}
	if _, ok := statCPU([]byte(kthread)); ok {
		t.Fatal("a kernel thread counted as a user process")
	}
	if d := otherCPUDelta(map[int]time.Duration{1: time.Second, 2: time.Second},
		map[int]time.Duration{1: 3 * time.Second, 3: time.Second}); d != 3*time.Second {
		t.Fatalf("delta %v, want 3s (2s more of pid 1, 1s of the new pid 3)", d)
	}
	if got := otherCPU(map[int]bool{os.Getpid(): true}); len(got) == 0 {
		t.Fatal("no user-space process found besides this one")
	}
}
