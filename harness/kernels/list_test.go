// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	l, err := parseList(strings.NewReader(`
# comment
bullseye-security  amd64 linux-image-5.10.0-46-cloud-amd64  5.10.262-1   # trailing comment
trixie-backports   arm64 linux-image-7.3.4+deb13-cloud-arm64 7.3.4-1~bpo13+1
bookworm           amd64 busybox-static                     1:1.35.0-4+deb12u1+b1
bookworm           arm64 busybox-static                     1:1.35.0-4+deb12u1+b1
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []pkg{
		{"bullseye-security", "amd64", "linux-image-5.10.0-46-cloud-amd64", "5.10.262-1"},
		{"trixie-backports", "arm64", "linux-image-7.3.4+deb13-cloud-arm64", "7.3.4-1~bpo13+1"},
	}
	if len(l.Kernels) != len(want) || l.Kernels[0] != want[0] || l.Kernels[1] != want[1] {
		t.Errorf("kernels %+v, want %+v", l.Kernels, want)
	}
	for _, a := range []string{"amd64", "arm64"} {
		if l.Busybox[a] != (pkg{"bookworm", a, "busybox-static", "1:1.35.0-4+deb12u1+b1"}) {
			t.Errorf("busybox for %s: %+v", a, l.Busybox[a])
		}
	}
}

func TestParseListErrors(t *testing.T) {
	for text, want := range map[string]string{
		"bookworm amd64 busybox-static 1\n":                                 "no linux-image-* line",
		"trixie amd64 linux-image-6.12.1-cloud-amd64 6.12.1-1\n":            "no busybox-static line for amd64",
		"trixie arm64 linux-image-x 1\nbookworm amd64 busybox-static 1\n":   "no busybox-static line for arm64",
		"trixie amd64 linux-image-x 1\nbookworm amd64 busybox-static 1 x\n": "line 2: want \"suite arch package version\"",
		"trixie amd64 linux-image-x 1\ntrixie amd64 linux-image-x 2\n":      "line 2: linux-image-x for amd64 is listed twice",
		"trixie amd64 linux-headers-x 1\n":                                  "neither a linux-image-* kernel nor busybox-static",
		"trixie riscv64 linux-image-x 1\n":                                  "line 1: architecture \"riscv64\": the harness boots amd64, arm64",
		"trixie amd64 linux-image-x 1\nsid amd64 busybox-static\n":          "line 2:",
	} {
		_, err := parseList(strings.NewReader(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", text, err, want)
		}
	}
}

// The committed list has the kernels the project claims to be tested on.
func TestCommittedList(t *testing.T) {
	f, err := os.Open("kernels.list")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := parseList(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"5.10", "6.1", "6.12", "6.18", "7"} {
		if _, err := selectKernels(l.Kernels, []string{v}, []string{"amd64"}); err != nil {
			t.Errorf("kernels.list: %v", err)
		}
	}
	// arm64: a 6.1 (the oldest Debian serves for arm64 here) and the newest.
	for _, v := range []string{"6.1", "7"} {
		if _, err := selectKernels(l.Kernels, []string{v}, []string{"arm64"}); err != nil {
			t.Errorf("kernels.list: %v", err)
		}
	}
}

func TestUpstream(t *testing.T) {
	for version, want := range map[string]string{
		"5.10.262-1":         "5.10.262",
		"6.18.15-1~bpo13+1":  "6.18.15",
		"1:1.35.0-4+deb12u1": "1.35.0",
		"7.3.4":              "7.3.4",
	} {
		if got := (pkg{Version: version}).upstream(); got != want {
			t.Errorf("%s: %s, want %s", version, got, want)
		}
	}
}

func TestSelectKernels(t *testing.T) {
	all := []pkg{
		{Arch: "amd64", Name: "linux-image-6.1.0-57-cloud-amd64", Version: "6.1.192-3"},
		{Arch: "amd64", Name: "linux-image-6.12.118+deb13-cloud-amd64", Version: "6.12.118-1"},
		{Arch: "amd64", Name: "linux-image-7.3.4+deb13-cloud-amd64", Version: "7.3.4-1~bpo13+1"},
		{Arch: "arm64", Name: "linux-image-6.1.0-57-cloud-arm64", Version: "6.1.192-3"},
	}
	names := func(ps []pkg) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.label())
		}
		return strings.Join(s, ", ")
	}
	for sel, want := range map[[2]string]string{
		{"", ""}:                                 "6.1.192 amd64, 6.12.118 amd64, 7.3.4 amd64, 6.1.192 arm64",
		{"6.1", ""}:                              "6.1.192 amd64, 6.1.192 arm64",
		{"6.1", "amd64"}:                         "6.1.192 amd64",
		{"", "arm64"}:                            "6.1.192 arm64",
		{"6.12", ""}:                             "6.12.118 amd64",
		{"6", "amd64"}:                           "6.1.192 amd64, 6.12.118 amd64",
		{"7.3.4,6.1", "amd64,arm64"}:             "6.1.192 amd64, 7.3.4 amd64, 6.1.192 arm64", // the list's order
		{"linux-image-6.1.0-57-cloud-amd64", ""}: "6.1.192 amd64",
	} {
		got, err := selectKernels(all, splitList(sel[0]), splitList(sel[1]))
		if err != nil || names(got) != want {
			t.Errorf("%q: %q, %v; want %q", sel, names(got), err, want)
		}
	}
	for sel, want := range map[[2]string]string{
		{"6.18", ""}:      "6.1.192 amd64, 6.12.118 amd64, 7.3.4 amd64, 6.1.192 arm64",
		{"7", "arm64"}:    "(the list has 6.1.192 arm64)",
		{"", "riscv64"}:   `architecture "riscv64"`,
		{"6.1", "s390x"}:  `architecture "s390x"`,
		{"", "arm64,arm"}: `architecture "arm"`,
	} {
		if _, err := selectKernels(all, splitList(sel[0]), splitList(sel[1])); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q, a selection of no kernel: %v, want an error containing %q", sel, err, want)
		}
	}
}
