// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"ABC", "", 3},
		{"NETFILTER_DROP", "NETFILTER_DROP", 0},
		{"NETFILTER_DORP", "NETFILTER_DROP", 1}, // a swap
		{"NETFILTR_DROP", "NETFILTER_DROP", 1},
		{"NETFILTER_DROPS", "NETFILTER_DROP", 1},
		{"TC_INGRESS", "TC_EGRESS", 2},
		{"KITTEN", "SITTING", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	table := fromTypes(t, reasonEnumOf(
		btf.EnumValue{Name: "SKB_DROP_REASON_NOT_SPECIFIED", Value: 2},
		btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3},
		btf.EnumValue{Name: "SKB_DROP_REASON_NETFILTER_DROP", Value: 12},
		btf.EnumValue{Name: "SKB_DROP_REASON_QUEUE_PURGE", Value: 40},
		btf.EnumValue{Name: "SKB_DROP_REASON_TC_EGRESS", Value: 41},
		btf.EnumValue{Name: "SKB_DROP_REASON_MAX", Value: 42},
	))
	values, missing, err := table.Resolve("logs::exclude_reasons",
		[]string{"QUEUE_PURGE", "SKB_DROP_REASON_NO_SOCKET", "QUEUE_PURGE", "TCP_LISTEN_OVERFLOW", "TC_INGRESS"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(values, []uint32{40, 3}) {
		t.Errorf("values %v, want [40 3]", values)
	}
	// Two edits from TC_EGRESS: another kernel's reason, not a typo.
	if len(missing) != 2 || missing[0].Name != "TCP_LISTEN_OVERFLOW" || missing[1].Name != "TC_INGRESS" || missing[1].Closest[0] != "TC_EGRESS" {
		t.Errorf("missing %v, want TCP_LISTEN_OVERFLOW and TC_INGRESS (closest TC_EGRESS)", missing)
	}

	for _, tc := range []struct {
		name string
		want []string // in the error
	}{
		{"NETFILTER_DORP", []string{"logs::exclude_reasons", `no drop reason "NETFILTER_DORP"`, "closest on this kernel: NETFILTER_DROP"}},
		{"QUEUE_PURG", []string{"QUEUE_PURGE"}},
		{"queue_purge", []string{"not a drop reason name", "closest on this kernel: QUEUE_PURGE"}},
		{"NO SOCKET", []string{"not a drop reason name", "NO_SOCKET"}},
		{"", []string{"not a drop reason name"}},
	} {
		_, _, err := table.Resolve("logs::exclude_reasons", []string{"NO_SOCKET", tc.name})
		if err == nil {
			t.Errorf("Resolve(%q): no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Resolve(%q): %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// TestResolveWithoutReasons: before 5.17 every well-formed name is missing,
// and a malformed one still an error.
func TestResolveWithoutReasons(t *testing.T) {
	var table *Table
	values, missing, err := table.Resolve("logs::include_reasons", []string{"NETFILTER_DROP"})
	if err != nil || len(values) != 0 || len(missing) != 1 {
		t.Errorf("Resolve = %v, %v, %v; want one missing name", values, missing, err)
	}
	if _, _, err := table.Resolve("logs::include_reasons", []string{"netfilter"}); err == nil {
		t.Error("a malformed name is no error on a kernel without reasons")
	}
}
