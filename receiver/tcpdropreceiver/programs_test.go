// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// probeProgramName is the kernel program's name (bpf/tcpdrop.c).
const probeProgramName = "tcpdrop_kfree"

// heldProbePrograms counts the distinct tcp_drop programs whose file
// descriptors process pid holds: what that process has attached, whatever
// other tests or collectors load at the same time.
func heldProbePrograms(t *testing.T, pid int) int {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fdinfo")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[ebpf.ProgramID]bool{}
	for _, e := range entries {
		id, ok := fdProgramID(filepath.Join(dir, e.Name()))
		if !ok || ids[id] {
			continue
		}
		prog, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue // unloaded meanwhile
		}
		info, err := prog.Info()
		prog.Close()
		if err == nil && info.Name == probeProgramName {
			ids[id] = true
		}
	}
	return len(ids)
}

// fdProgramID reads the "prog_id:" line a BPF program's fdinfo has.
func fdProgramID(path string) (ebpf.ProgramID, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "prog_id:"); ok {
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			return ebpf.ProgramID(id), err == nil
		}
	}
	return 0, false
}
