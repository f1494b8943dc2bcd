// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which
// Linux fixes at 100 for every architecture's user-space ABI.
const userHZ = 100

// procSample is what the bench reads of a monitor process at one moment.
type procSample struct {
	CPU       time.Duration // utime+stime of the whole process, exited threads included
	Voluntary uint64        // voluntary context switches summed over its threads
	PeakRSS   uint64        // VmHWM in bytes
}

// parseStat returns utime and stime (in clock ticks) from /proc/<pid>/stat.
// The command name is in parentheses and may itself hold spaces and ')', so
// fields are counted from the last ')'.
func parseStat(data []byte) (utime, stime uint64, err error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, 0, errors.New("stat: no ')' after the command name")
	}
	// After ')': field 3 (state) is index 0, so utime (14) and stime (15)
	// are indexes 11 and 12.
	f := bytes.Fields(data[end+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("stat: %d fields after the command name, want at least 13", len(f))
	}
	if utime, err = strconv.ParseUint(string(f[11]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stat: utime: %w", err)
	}
	if stime, err = strconv.ParseUint(string(f[12]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stat: stime: %w", err)
	}
	return utime, stime, nil
}

// procStatus is the part of /proc/<pid>/status the bench uses.
type procStatus struct {
	PeakRSS   uint64 // VmHWM, bytes
	Voluntary uint64
}

// parseStatus reads "Key:\tvalue [kB]" lines.
func parseStatus(data []byte) (procStatus, error) {
	var s procStatus
	hasSwitches := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *uint64
		scale := uint64(1)
		switch string(key) {
		case "VmHWM":
			dst, scale = &s.PeakRSS, 1024
		case "voluntary_ctxt_switches":
			dst, hasSwitches = &s.Voluntary, true
		default:
			continue
		}
		f := bytes.Fields(val)
		if len(f) == 0 {
			return s, fmt.Errorf("status: %s has no value", key)
		}
		n, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return s, fmt.Errorf("status: %s: %w", key, err)
		}
		*dst = n * scale
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	if !hasSwitches {
		return s, errors.New("status: no voluntary_ctxt_switches line")
	}
	return s, nil
}

// sampleProc reads pid's CPU time, peak RSS and context switches.
// /proc/<pid>/status counts the switches of the main thread only, so they
// are summed over /proc/<pid>/task/*/status: the ring-buffer reader is
// another thread. Threads that have exited are missing from that sum; the
// Go runtime rarely ends one.
func sampleProc(pid int) (procSample, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return procSample{}, err
	}
	ut, st, err := parseStat(stat)
	if err != nil {
		return procSample{}, err
	}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return procSample{}, err
	}
	main, err := parseStatus(status)
	if err != nil {
		return procSample{}, err
	}
	s := procSample{
		CPU:     time.Duration(ut+st) * time.Second / userHZ,
		PeakRSS: main.PeakRSS,
	}
	tasks, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		return procSample{}, err
	}
	for _, t := range tasks {
		data, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "status"))
		if err != nil {
			continue // the thread ended between the listing and the read
		}
		ts, err := parseStatus(data)
		if err != nil {
			return procSample{}, fmt.Errorf("task %s: %w", t.Name(), err)
		}
		s.Voluntary += ts.Voluntary
	}
	return s, nil
}

// sub is the change from old to s; PeakRSS is s's, a high-water mark.
func (s procSample) sub(old procSample) procSample {
	d := procSample{CPU: s.CPU - old.CPU, PeakRSS: s.PeakRSS}
	if s.Voluntary > old.Voluntary {
		d.Voluntary = s.Voluntary - old.Voluntary
	}
	if d.CPU < 0 {
		d.CPU = 0
	}
	return d
}
