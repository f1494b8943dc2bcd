// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// pfKthread is PF_KTHREAD in the flags of /proc/<pid>/stat.
const pfKthread = 0x00200000

// otherCPU is the CPU time of every user-space process but those in skip,
// by pid. The machine may be shared: what others use during a flood takes
// CPU from the generator and the monitor, and the bench says so. Kernel
// threads are left out: ksoftirqd's work is part of the flood's cost.
func otherCPU(skip map[int]bool) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, p := range procfs.PIDs("/proc") {
		pid := int(p)
		if skip[pid] {
			continue
		}
		data, err := os.ReadFile(procfs.PIDDir("/proc", p) + "/stat")
		if err != nil {
			continue // it exited
		}
		if cpu, user := statCPU(data); user {
			out[pid] = cpu
		}
	}
	return out
}

// statCPU is utime+stime of a stat line, and whether it is a user-space
// process.
func statCPU(data []byte) (time.Duration, bool) {
	ut, st, err := parseStat(data)
	if err != nil {
		return 0, false
	}
	end := bytes.LastIndexByte(data, ')')
	f := bytes.Fields(data[end+1:])
	flags, err := strconv.ParseUint(string(f[6]), 10, 64)
	if err != nil || flags&pfKthread != 0 {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / userHZ, true
}

// otherCPUDelta is how much CPU the processes of after used since before;
// a process new in after counts whole. Processes that exited in between
// are missed.
func otherCPUDelta(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, cpu := range after {
		if cpu > before[pid] {
			d += cpu - before[pid]
		}
	}
	return d
}
