// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// A kernelNames is what one kernel's BTF holds: for each enum, its names,
// or nil when the kernel lacks the enum.
type kernelNames struct {
	Label string // "6.1.192 arm64"
	Enums map[string][]string
}

// A nameRow is a line of the data file: a name of an enum and the kernels
// that have it. The name absent ("-") lists the kernels without the enum.
type nameRow struct {
	Enum, Name string
	Kernels    []string
}

const absent = "-"

const header = `# The drop reasons (enum skb_drop_reason) and reset reasons (enum
# sk_rst_reason) of the kernels in harness/kernels/kernels.list and of the
# kernel that wrote this file ("running"), read from their BTF. A row is an
# enum, a name without its prefix, and the kernels that have it; the name
# "-" lists the kernels that lack the enum. docs/reasons.md has an entry
# for every name. Written by make reasons (go run ./harness/reasons).
enum	name	kernels
`

// rows gathers the kernels' names (given oldest first) into the data
// file's rows: for each enum, the kernels without it, then its names in
// the newest kernel's order (the enum's), names only older kernels have
// after them.
func rows(kernels []kernelNames) []nameRow {
	var out []nameRow
	for _, enum := range []string{dropEnum, resetEnum} {
		lacking := nameRow{Enum: enum, Name: absent}
		var order []string
		has := map[string][]string{}
		for i := len(kernels) - 1; i >= 0; i-- {
			for _, n := range kernels[i].Enums[enum] {
				if !slices.Contains(order, n) {
					order = append(order, n)
				}
			}
		}
		for _, k := range kernels {
			names := k.Enums[enum]
			if names == nil {
				lacking.Kernels = append(lacking.Kernels, k.Label)
			}
			for _, n := range names {
				has[n] = append(has[n], k.Label)
			}
		}
		if len(lacking.Kernels) > 0 {
			out = append(out, lacking)
		}
		for _, n := range order {
			out = append(out, nameRow{Enum: enum, Name: n, Kernels: has[n]})
		}
	}
	return out
}

func writeRows(w io.Writer, rs []nameRow) error {
	bw := bufio.NewWriter(w)
	_, _ = bw.WriteString(header) // a bufio.Writer keeps its first error for Flush
	for _, r := range rs {
		fmt.Fprintf(bw, "%s\t%s\t%s\n", r.Enum, r.Name, strings.Join(r.Kernels, ", "))
	}
	return bw.Flush()
}

// readRows parses the data file.
func readRows(r io.Reader) ([]nameRow, error) {
	var out []nameRow
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || line == "enum\tname\tkernels" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || !slices.Contains([]string{dropEnum, resetEnum}, f[0]) || f[1] == "" {
			return nil, fmt.Errorf("line %d: want \"enum<TAB>name<TAB>kernels\" of %s or %s, got %q", n, dropEnum, resetEnum, line)
		}
		out = append(out, nameRow{Enum: f[0], Name: f[1], Kernels: strings.Split(f[2], ", ")})
	}
	return out, sc.Err()
}

// versions sums up a row's kernels for the catalogue: their major.minor
// versions, oldest first, once each ("6.1, 6.12, 7.3").
func versions(kernels []string) string {
	var vs [][2]int
	for _, k := range kernels {
		v := version(k)
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	slices.SortFunc(vs, compareVersions)
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%d.%d", v[0], v[1])
	}
	return strings.Join(out, ", ")
}

// version is the major.minor of a kernel's label ("6.18.15 amd64",
// "6.18.44-fc-v1300 amd64 running").
func version(label string) [2]int {
	var v [2]int
	_, _ = fmt.Sscanf(label, "%d.%d", &v[0], &v[1]) // a label without one reads as 0.0
	return v
}

func compareVersions(a, b [2]int) int {
	if c := cmp.Compare(a[0], b[0]); c != 0 {
		return c
	}
	return cmp.Compare(a[1], b[1])
}
