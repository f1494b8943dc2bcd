// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"slices"
	"strings"

	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// probeFilter is the kernel program's filter for l, with the running
// kernel's reason values. A name that cannot be a reason, or is a typo of
// one this kernel has, is an error naming its key (dropreason.Resolve); one
// this kernel lacks but others may have is passed to warn, except in the
// default exclude_reasons, which name reasons of some kernels only. reasons
// nil or not Available (no BTF, or before 5.17): no reason filter, and
// warn says so if reasons were asked for.
func (l LogFilters) probeFilter(reasons *dropreason.Table, warn func(string)) (probe.Filter, error) {
	f := probe.Filter{}
	for _, p := range l.Ports {
		f.Ports = append(f.Ports, uint16(p)) // the receiver's Config keeps them in 1..65535
	}
	excluded, missingEx, err := reasons.Resolve("logs::exclude_reasons", l.ExcludeReasons)
	if err != nil {
		return f, err
	}
	included, missingIn, err := reasons.Resolve("logs::include_reasons", l.IncludeReasons)
	if err != nil {
		return f, err
	}
	// The watcher reports overflows with that reason on every kernel
	// (overflowFilter): the kernel lacks it, the collector does not.
	missingEx = slices.DeleteFunc(missingEx, isListenOverflow)
	missingIn = slices.DeleteFunc(missingIn, isListenOverflow)
	byDefault := slices.Equal(l.ExcludeReasons, DefaultExcludeReasons)
	if !reasons.Available() {
		if len(l.IncludeReasons) > 0 || (len(l.ExcludeReasons) > 0 && !byDefault) {
			warn("tcp_drop: this kernel passes no drop reasons (Linux 5.17+ does): logs::exclude_reasons and logs::include_reasons select nothing, every drop is logged")
		}
		return f, nil
	}
	if len(missingEx) > 0 && !byDefault {
		warn("tcp_drop: logs::exclude_reasons: this kernel has no drop reason " + joinMissing(missingEx) + " (not an error: other kernels have reasons this one lacks)")
	}
	if len(missingIn) > 0 {
		warn("tcp_drop: logs::include_reasons: this kernel has no drop reason " + joinMissing(missingIn) + " (not an error: other kernels have reasons this one lacks; none of its drops can be logged here)")
	}
	switch {
	case len(l.IncludeReasons) > 0:
		f.ReasonMode = probe.OnlyReasons
		for _, v := range included {
			if !slices.Contains(excluded, v) {
				f.Reasons = append(f.Reasons, v)
			}
		}
	case len(excluded) > 0:
		f.ReasonMode = probe.ExcludedReasons
		f.Reasons = excluded
	}
	return f, nil
}

func joinMissing(ms []dropreason.Missing) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, "; ")
}

// overflowFilter is the log filters' verdict on the listen-queue overflows,
// which the watcher finds (not the kernel program) and reports with reason
// ListenOverflowReason on every kernel: the same as the program gives the
// drops it sees. A listener's overflows it leaves out are counted in
// Counts.Filtered.
type overflowFilter struct {
	excluded bool     // by exclude_reasons or include_reasons
	ports    []uint16 // the ports logged; empty: all
}

// overflowFilter is l's overflowFilter. byReason false (a kernel without
// drop reasons): the reason filters select nothing there, as for the
// program's drops.
func (l LogFilters) overflowFilter(byReason bool) overflowFilter {
	var f overflowFilter
	names := func(ns []string) bool { return slices.ContainsFunc(ns, isListenOverflowName) }
	if byReason {
		f.excluded = names(l.ExcludeReasons) || (len(l.IncludeReasons) > 0 && !names(l.IncludeReasons))
	}
	for _, p := range l.Ports {
		f.ports = append(f.ports, uint16(p))
	}
	return f
}

// logs tells whether the overflows of a listener on port become records.
func (f overflowFilter) logs(port uint16) bool {
	return !f.excluded && (len(f.ports) == 0 || slices.Contains(f.ports, port))
}

func isListenOverflowName(name string) bool {
	return strings.TrimPrefix(name, "SKB_DROP_REASON_") == ListenOverflowReason
}

func isListenOverflow(m dropreason.Missing) bool { return isListenOverflowName(m.Name) }
