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
bullseye-security  linux-image-5.10.0-46-cloud-amd64  5.10.262-1   # trailing comment
trixie-backports   linux-image-7.3.4+deb13-cloud-amd64 7.3.4-1~bpo13+1
bookworm           busybox-static                     1:1.35.0-4+deb12u1+b1
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []pkg{
		{"bullseye-security", "linux-image-5.10.0-46-cloud-amd64", "5.10.262-1"},
		{"trixie-backports", "linux-image-7.3.4+deb13-cloud-amd64", "7.3.4-1~bpo13+1"},
	}
	if len(l.Kernels) != len(want) || l.Kernels[0] != want[0] || l.Kernels[1] != want[1] {
		t.Errorf("kernels %+v, want %+v", l.Kernels, want)
	}
	if l.Busybox != (pkg{"bookworm", "busybox-static", "1:1.35.0-4+deb12u1+b1"}) {
		t.Errorf("busybox %+v", l.Busybox)
	}
}

func TestParseListErrors(t *testing.T) {
	for text, want := range map[string]string{
		"bookworm busybox-static 1\n":                                            "no linux-image-* line",
		"trixie linux-image-6.12.1-cloud-amd64 6.12.1-1\n":                       "no busybox-static line",
		"trixie linux-image-x 1\nbookworm busybox-static 1 extra\n":              "line 2: want \"suite package version\"",
		"trixie linux-image-x 1\ntrixie linux-image-x 2\n":                       "line 2: linux-image-x is listed twice",
		"trixie linux-headers-x 1\n":                                             "neither a linux-image-* kernel nor busybox-static",
		"trixie linux-image-x 1\nbookworm busybox-static 1\nsid linux-image-y\n": "line 3:",
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
		if _, err := selectKernels(l.Kernels, []string{v}); err != nil {
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
		{Name: "linux-image-6.1.0-57-cloud-amd64", Version: "6.1.192-3"},
		{Name: "linux-image-6.12.118+deb13-cloud-amd64", Version: "6.12.118-1"},
		{Name: "linux-image-7.3.4+deb13-cloud-amd64", Version: "7.3.4-1~bpo13+1"},
	}
	names := func(ps []pkg) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.upstream())
		}
		return strings.Join(s, " ")
	}
	for sel, want := range map[string]string{
		"":                                 "6.1.192 6.12.118 7.3.4",
		"6.1":                              "6.1.192",
		"6.12":                             "6.12.118",
		"6":                                "6.1.192 6.12.118",
		"7.3.4,6.1":                        "6.1.192 7.3.4", // the list's order
		"linux-image-6.1.0-57-cloud-amd64": "6.1.192",
	} {
		got, err := selectKernels(all, strings.FieldsFunc(sel, func(r rune) bool { return r == ',' }))
		if err != nil || names(got) != want {
			t.Errorf("%q: %q, %v; want %q", sel, names(got), err, want)
		}
	}
	if _, err := selectKernels(all, []string{"6.18"}); err == nil || !strings.Contains(err.Error(), "6.1.192, 6.12.118, 7.3.4") {
		t.Errorf("a selection of no kernel: %v", err)
	}
}
