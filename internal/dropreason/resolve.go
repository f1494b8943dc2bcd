// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Resolve looks up the reason names of the configuration key key (e.g.
// "logs::exclude_reasons") in the table and returns their values, in the
// order given, without repeats.
//
// A name the table lacks is one of two things, and Resolve tells them apart
// without a list of reasons of its own, by this rule:
//   - an error, naming key and the closest names this kernel has, when the
//     name cannot be a reason (anything but upper-case letters, digits and
//     underscores, starting with a letter), or when it is one edit (a
//     character inserted, deleted, replaced, or two neighbours swapped)
//     from a name this kernel has: a typo;
//   - otherwise a reason that other kernels may have (reasons are added in
//     every release, and renamed: TCP_LISTEN_OVERFLOW is 6.16's): returned
//     in missing, with the closest names this kernel has, for a warning.
//
// On a kernel without reasons (before 5.17) every name of the right form
// is missing.
func (t *Table) Resolve(key string, names []string) (values []uint32, missing []Missing, err error) {
	var known []string
	if t.Available() {
		known = t.names
	}
	seen := map[uint32]bool{}
	for _, name := range names {
		if v, ok := t.Value(name); ok {
			if !seen[v] {
				seen[v] = true
				values = append(values, v)
			}
			continue
		}
		short := strings.TrimPrefix(name, reasonPrefix)
		closest := Closest(short, known, 3)
		if !isReasonForm(short) {
			return nil, nil, fmt.Errorf("%s: %q is not a drop reason name (upper-case letters, digits and _, as the kernel's enum skb_drop_reason spells them)%s",
				key, name, closestHint(closest))
		}
		if len(closest) > 0 && editDistance(short, closest[0]) <= 1 {
			return nil, nil, fmt.Errorf("%s: this kernel has no drop reason %q%s", key, name, closestHint(closest))
		}
		missing = append(missing, Missing{Name: name, Closest: closest})
	}
	return values, missing, nil
}

// Missing is a name of a reason this kernel lacks, with the names it has
// that are closest to it.
type Missing struct {
	Name    string
	Closest []string
}

func (m Missing) String() string {
	return m.Name + closestHint(m.Closest)
}

func closestHint(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "; closest on this kernel: " + strings.Join(names, ", ")
}

// isReasonForm tells whether name is spelt as the kernel's reasons are.
func isReasonForm(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for _, c := range []byte(name) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// Closest returns up to n of names, those nearest to name by edit distance
// (compared in upper case), nearest first, ties in the order given.
func Closest(name string, names []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	upper := strings.ToUpper(name)
	all := make([]scored, 0, len(names))
	for _, c := range names {
		all = append(all, scored{c, editDistance(upper, c)})
	}
	slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(a.d, b.d) })
	out := make([]string, 0, n)
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.name)
	}
	return out
}

// editDistance is the optimal string alignment distance between a and b:
// the insertions, deletions, replacements and swaps of neighbouring bytes
// that turn one into the other.
func editDistance(a, b string) int {
	// prev2, prev and cur are rows i-2, i-1 and i of the table.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
