// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// A pkg is one line of the pinned list: a Debian package for an
// architecture at an exact version, and the suite that serves it.
type pkg struct {
	Suite, Arch, Name, Version string
}

// list is the parsed pinned list: the kernels to boot and, for each
// architecture, the busybox its guests run.
type list struct {
	Kernels []pkg
	Busybox map[string]pkg // by architecture
}

const busyboxPackage = "busybox-static"

// parseList reads the pinned list: "suite arch package version" a line, #
// starts a comment. Every kernel is a linux-image-* package of an
// architecture the harness can boot; each architecture with a kernel has
// one busybox-static line.
func parseList(r io.Reader) (list, error) {
	l := list{Busybox: map[string]pkg{}}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return list{}, fmt.Errorf("line %d: want \"suite arch package version\", got %q", n, strings.TrimSpace(line))
		}
		p := pkg{Suite: f[0], Arch: f[1], Name: f[2], Version: f[3]}
		if _, ok := archs[p.Arch]; !ok {
			return list{}, fmt.Errorf("line %d: architecture %q: the harness boots %s", n, p.Arch, strings.Join(archNames(), ", "))
		}
		if seen[p.Name+":"+p.Arch] {
			return list{}, fmt.Errorf("line %d: %s for %s is listed twice", n, p.Name, p.Arch)
		}
		seen[p.Name+":"+p.Arch] = true
		switch {
		case p.Name == busyboxPackage:
			l.Busybox[p.Arch] = p
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
	for _, k := range l.Kernels {
		if _, ok := l.Busybox[k.Arch]; !ok {
			return list{}, fmt.Errorf("no %s line for %s (the shell of %s's guest)", busyboxPackage, k.Arch, k.Name)
		}
	}
	return l, nil
}

// label names a kernel in the table and the logs: its upstream version and
// architecture, "6.1.192 arm64".
func (p pkg) label() string {
	return p.upstream() + " " + p.Arch
}

// upstream is the kernel's upstream version:
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

// selectKernels keeps, in the list's order, the kernels of the architectures
// asked for (none: all) that one of the selections names (none: all). A
// selection that names no kernel is an error, so that a typo does not pass
// as an empty, green run.
func selectKernels(all []pkg, selections, architectures []string) ([]pkg, error) {
	if len(architectures) > 0 {
		var ofArch []pkg
		for _, a := range architectures {
			if _, ok := archs[a]; !ok {
				return nil, fmt.Errorf("architecture %q: the harness boots %s", a, strings.Join(archNames(), ", "))
			}
		}
		for _, k := range all {
			if slices.Contains(architectures, k.Arch) {
				ofArch = append(ofArch, k)
			}
		}
		all = ofArch
	}
	if len(selections) == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("the list has no kernel for %s", strings.Join(architectures, ", "))
		}
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
				names = append(names, k.label())
			}
			return nil, fmt.Errorf("no kernel in the list matches %q (the list has %s)", s, strings.Join(names, ", "))
		}
	}
	return out, nil
}
