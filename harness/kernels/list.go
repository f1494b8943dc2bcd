// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// A pkg is one line of the pinned list: a Debian package at an exact version
// and the suite that serves it.
type pkg struct {
	Suite, Name, Version string
}

// list is the parsed pinned list: the kernels to boot and the busybox the
// guest runs.
type list struct {
	Kernels []pkg
	Busybox pkg
}

const busyboxPackage = "busybox-static"

// parseList reads the pinned list: "suite package version" a line, # starts
// a comment. Every kernel is a linux-image-* package; exactly one line names
// busybox-static.
func parseList(r io.Reader) (list, error) {
	var l list
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return list{}, fmt.Errorf("line %d: want \"suite package version\", got %q", n, strings.TrimSpace(line))
		}
		p := pkg{Suite: f[0], Name: f[1], Version: f[2]}
		if seen[p.Name] {
			return list{}, fmt.Errorf("line %d: %s is listed twice", n, p.Name)
		}
		seen[p.Name] = true
		switch {
		case p.Name == busyboxPackage:
			l.Busybox = p
		case strings.HasPrefix(p.Name, "linux-image-"):
			l.Kernels = append(l.Kernels, p)
		default:
			return list{}, fmt.Errorf("line %d: %s is neither a linux-image-* kernel nor %s", n, p.Name, busyboxPackage)
		}
	}
	if err := sc.Err(); err != nil {
		return list{}, err
	}
	if len(l.Kernels) == 0 {
		return list{}, fmt.Errorf("no linux-image-* line")
	}
	if l.Busybox.Name == "" {
		return list{}, fmt.Errorf("no %s line (the guest's shell)", busyboxPackage)
	}
	return l, nil
}

// upstream is the kernel's upstream version, the name the table gives it:
// "5.10.262" for Debian's "5.10.262-1", "6.18.15" for "6.18.15-1~bpo13+1".
func (p pkg) upstream() string {
	v := p.Version
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	v, _, _ = strings.Cut(v, "-")
	return v
}

// matches tells whether the kernel is one that a KERNELS selection names: a
// selection is a version prefix by whole components ("6.1" picks 6.1.192,
// not 6.12.118) or the package name.
func (p pkg) matches(selection string) bool {
	if selection == p.Name {
		return true
	}
	want := strings.Split(selection, ".")
	have := strings.Split(p.upstream(), ".")
	if len(want) > len(have) {
		return false
	}
	for i := range want {
		if want[i] != have[i] {
			return false
		}
	}
	return true
}

// selectKernels keeps, in the list's order, the kernels that one of the
// selections names; no selection keeps them all. A selection that names no
// kernel is an error, so that a typo does not pass as an empty, green run.
func selectKernels(all []pkg, selections []string) ([]pkg, error) {
	if len(selections) == 0 {
		return all, nil
	}
	used := map[string]bool{}
	var out []pkg
	for _, k := range all {
		picked := false
		for _, s := range selections {
			if k.matches(s) {
				used[s], picked = true, true
			}
		}
		if picked {
			out = append(out, k)
		}
	}
	for _, s := range selections {
		if !used[s] {
			var names []string
			for _, k := range all {
				names = append(names, k.upstream())
			}
			return nil, fmt.Errorf("no kernel in the list matches %q (the list has %s)", s, strings.Join(names, ", "))
		}
	}
	return out, nil
}
