// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/tcpdrop/tcpdrop/harness/btftest"
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

func fixtureReasons(t *testing.T) *dropreason.Table {
	t.Helper()
	table, err := dropreason.FromSpec(btftest.SpecOf(t, &btf.Enum{Name: "skb_drop_reason", Size: 4, Values: []btf.EnumValue{
		{Name: "SKB_DROP_REASON_NOT_SPECIFIED", Value: 2},
		{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3},
		{Name: "SKB_DROP_REASON_NETFILTER_DROP", Value: 12},
		{Name: "SKB_DROP_REASON_TCP_OLD_DATA", Value: 33},
		{Name: "SKB_DROP_REASON_MAX", Value: 34},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func TestProbeFilter(t *testing.T) {
	reasons := fixtureReasons(t)
	for _, tc := range []struct {
		name     string
		logs     LogFilters
		want     probe.Filter
		warnings []string
	}{
		// QUEUE_PURGE is not in this kernel: left out of the default
		// without a word.
		{"default", DefaultOptions().Logs, probe.Filter{ReasonMode: probe.ExcludedReasons, Reasons: []uint32{33}}, nil},
		{"everything", LogFilters{ExcludeReasons: []string{}}, probe.Filter{}, nil},
		{"include less exclude", LogFilters{ExcludeReasons: []string{"NO_SOCKET"}, IncludeReasons: []string{"NETFILTER_DROP", "NO_SOCKET"}},
			probe.Filter{ReasonMode: probe.OnlyReasons, Reasons: []uint32{12}}, nil},
		{"ports", LogFilters{Ports: []int{443, 80}}, probe.Filter{Ports: []uint16{443, 80}}, nil},
		{"another kernel's reason", LogFilters{ExcludeReasons: []string{"QUEUE_PURGE", "NO_SOCKET"}},
			probe.Filter{ReasonMode: probe.ExcludedReasons, Reasons: []uint32{3}}, []string{"logs::exclude_reasons", "QUEUE_PURGE", "not an error"}},
		// Only reasons this kernel lacks: none of its drops is logged.
		{"include another kernel's reason", LogFilters{IncludeReasons: []string{"TCP_ZEROWINDOW"}},
			probe.Filter{ReasonMode: probe.OnlyReasons}, []string{"logs::include_reasons", "TCP_ZEROWINDOW"}},
		// The watcher reports TCP_LISTEN_OVERFLOW on every kernel: not
		// missing, and only its overflows are logged.
		{"include TCP_LISTEN_OVERFLOW", LogFilters{IncludeReasons: []string{"TCP_LISTEN_OVERFLOW"}},
			probe.Filter{ReasonMode: probe.OnlyReasons}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var warned []string
			got, err := tc.logs.probeFilter(reasons, func(m string) { warned = append(warned, m) })
			if err != nil {
				t.Fatal(err)
			}
			if got.ReasonMode != tc.want.ReasonMode || !slices.Equal(got.Reasons, tc.want.Reasons) || !slices.Equal(got.Ports, tc.want.Ports) {
				t.Errorf("filter %+v, want %+v", got, tc.want)
			}
			all := strings.Join(warned, "\n")
			for _, w := range tc.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q do not say %q", all, w)
				}
			}
			if tc.warnings == nil && len(warned) > 0 {
				t.Errorf("warned %q", warned)
			}
		})
	}
}

// TestProbeFilterRefusesTypos: a typo of a reason this kernel has, and a
// name that cannot be one, stop the start with the key and the closest names.
func TestProbeFilterRefusesTypos(t *testing.T) {
	reasons := fixtureReasons(t)
	for _, tc := range []struct {
		logs LogFilters
		want []string
	}{
		{LogFilters{ExcludeReasons: []string{"NETFILTER_DORP"}}, []string{"logs::exclude_reasons", "NETFILTER_DORP", "closest on this kernel: NETFILTER_DROP"}},
		{LogFilters{IncludeReasons: []string{"no_socket"}}, []string{"logs::include_reasons", "not a drop reason name", "NO_SOCKET"}},
	} {
		_, err := tc.logs.probeFilter(reasons, func(string) {})
		if err == nil {
			t.Fatalf("%+v: no error", tc.logs)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	}
}

// TestProbeFilterWithoutReasons: before 5.17 the reason keys select
// nothing, and a warning says so unless only the default is set.
func TestProbeFilterWithoutReasons(t *testing.T) {
	var none *dropreason.Table
	var warned []string
	f, err := DefaultOptions().Logs.probeFilter(none, func(m string) { warned = append(warned, m) })
	if err != nil || f.ReasonMode != probe.AllReasons || len(warned) != 0 {
		t.Errorf("default: %+v, %v, warned %q; want no filter, no warning", f, err, warned)
	}
	f, err = LogFilters{IncludeReasons: []string{"NETFILTER_DROP"}, Ports: []int{80}}.probeFilter(none, func(m string) { warned = append(warned, m) })
	if err != nil || f.ReasonMode != probe.AllReasons || !slices.Equal(f.Ports, []uint16{80}) || len(warned) != 1 || !strings.Contains(warned[0], "no drop reasons") {
		t.Errorf("include: %+v, %v, warned %q; want ports only and one warning", f, err, warned)
	}
}

// TestOverflowFilter: the listen-queue overflows, which the watcher reports
// with reason TCP_LISTEN_OVERFLOW, are logged as the program's drops would
// be: by reason (not on a kernel without reasons) and by port.
func TestOverflowFilter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		logs     LogFilters
		byReason bool
		logged   []uint16 // of ports 80 and 443
	}{
		{"default", DefaultOptions().Logs, true, []uint16{80, 443}},
		{"excluded", LogFilters{ExcludeReasons: []string{"NO_SOCKET", "TCP_LISTEN_OVERFLOW"}}, true, nil},
		{"excluded, kernel prefix", LogFilters{ExcludeReasons: []string{"SKB_DROP_REASON_TCP_LISTEN_OVERFLOW"}}, true, nil},
		{"excluded, no reasons", LogFilters{ExcludeReasons: []string{"TCP_LISTEN_OVERFLOW"}}, false, []uint16{80, 443}},
		{"included", LogFilters{IncludeReasons: []string{"TCP_LISTEN_OVERFLOW"}}, true, []uint16{80, 443}},
		{"others included", LogFilters{IncludeReasons: []string{"NO_SOCKET"}}, true, nil},
		{"included and excluded", LogFilters{IncludeReasons: []string{"TCP_LISTEN_OVERFLOW"}, ExcludeReasons: []string{"TCP_LISTEN_OVERFLOW"}}, true, nil},
		{"ports", LogFilters{Ports: []int{443, 8080}}, true, []uint16{443}},
		{"ports, no reasons", LogFilters{Ports: []int{80}, IncludeReasons: []string{"NO_SOCKET"}}, false, []uint16{80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.logs.overflowFilter(tc.byReason)
			var logged []uint16
			for _, port := range []uint16{80, 443} {
				if f.logs(port) {
					logged = append(logged, port)
				}
			}
			if !slices.Equal(logged, tc.logged) {
				t.Errorf("overflows of ports %v logged, want %v", logged, tc.logged)
			}
		})
	}
}
