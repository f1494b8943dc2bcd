// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"
)

const namesFile = "../../docs/reasons/names.tsv"

func loadRows(t *testing.T) []nameRow {
	t.Helper()
	f, err := os.Open(namesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := readRows(f)
	if err != nil {
		t.Fatalf("%s: %v", namesFile, err)
	}
	return rs
}

// TestRunningKernelListed: every drop and reset reason of the running
// kernel is in the data file (else run make reasons and describe the new
// names in docs/reasons.md).
func TestRunningKernelListed(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); errors.Is(err, fs.ErrNotExist) && os.Getenv("TCPDROP_REQUIRE_BPF") != "1" {
		t.Skip("/sys/kernel/btf/vmlinux is missing: this kernel has no BTF to compare the data file with")
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	enums, err := enumNames(spec)
	if err != nil {
		t.Fatal(err)
	}
	have := map[[2]string]bool{}
	for _, r := range loadRows(t) {
		have[[2]string{r.Enum, r.Name}] = true
	}
	for _, enum := range []string{dropEnum, resetEnum} {
		var missing []string
		for _, n := range enums[enum] {
			if !have[[2]string{enum, n}] {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			t.Errorf("the running kernel's enum %s has %v, which %s lacks: run make reasons and describe them in docs/reasons.md", enum, missing, namesFile)
		}
	}
}
