// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Report says exactly what a run sent. Every slot of the plan that came up
// is in exactly one of Sent, Errors and Behind.
type Report struct {
	Family  int    `json:"family"`
	Port    int    `json:"port"`
	Kind    string `json:"kind"`
	Target  int    `json:"target_rate"` // packets/s asked for; 0 = as fast as possible
	Workers int    `json:"workers"`
	Netns   uint32 `json:"netns_inode"`

	Sent   uint64 `json:"sent"`   // packets the kernel accepted
	Errors uint64 `json:"errors"` // packets a send refused (by errno in ErrorsBy)
	// Behind counts open-loop slots skipped because they were more than
	// Slack late; MaxLag is the latest a sent packet left after its slot.
	Behind   uint64            `json:"behind"`
	MaxLag   time.Duration     `json:"max_lag_ns"`
	ErrorsBy map[string]uint64 `json:"errors_by,omitempty"`
	Elapsed  time.Duration     `json:"elapsed_ns"`
	// Interrupted is set when the context ended the run before its plan.
	Interrupted bool `json:"interrupted"`

	// Kernel is how the namespace's counters moved over the run, whatever
	// moved them; nil if they could not be read.
	Kernel *Counters `json:"kernel,omitempty"`
	// Drops is how many NO_SOCKET drops Sent should cause when nothing
	// else runs in the namespace.
	Drops uint64 `json:"expected_drops"`
}

// Rate is the achieved rate in packets per second.
func (r Report) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// Scheduled is how many slots came up: Sent + Errors + Behind.
func (r Report) Scheduled() uint64 { return r.Sent + r.Errors + r.Behind }

// String is one line for a person.
func (r Report) String() string {
	var b strings.Builder
	target := "as fast as possible"
	if r.Target > 0 {
		target = fmt.Sprintf("target %d/s", r.Target)
	}
	fmt.Fprintf(&b, "sent %d IPv%d %s to port %d in %v: %.0f packets/s (%s, %d worker(s), netns %d)",
		r.Sent, r.Family, r.Kind, r.Port, r.Elapsed.Round(time.Millisecond), r.Rate(), target, r.Workers, r.Netns)
	fmt.Fprintf(&b, "; errors %d", r.Errors)
	if len(r.ErrorsBy) > 0 {
		names := make([]string, 0, len(r.ErrorsBy))
		for n := range r.ErrorsBy {
			names = append(names, n)
		}
		sort.Strings(names)
		for i, n := range names {
			names[i] = fmt.Sprintf("%s=%d", n, r.ErrorsBy[n])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(names, " "))
	}
	if r.Target > 0 {
		fmt.Fprintf(&b, "; behind schedule %d, max lag %v", r.Behind, r.MaxLag.Round(time.Microsecond))
	}
	if r.Interrupted {
		b.WriteString("; interrupted")
	}
	fmt.Fprintf(&b, "; expected NO_SOCKET drops %d", r.Drops)
	if k := r.Kernel; k != nil {
		fmt.Fprintf(&b, "; kernel: Tcp InSegs +%d OutRsts +%d InErrs +%d InCsumErrors +%d, Ip InReceives +%d, Ip6 InReceives +%d",
			k.TCPInSegs, k.TCPOutRsts, k.TCPInErrs, k.TCPInCsumErrors, k.IPInReceives, k.IP6InReceives)
	}
	return b.String()
}
