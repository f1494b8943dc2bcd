// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/kallsyms"
	"github.com/tcpdrop/tcpdrop/internal/probe"
)

// Names turns the raw values the kernel reports into names. The engine
// uses the running kernel's; tests use fixtures.
type Names interface {
	// Reason names the reason of a count or event of kind, e.g.
	// "NO_SOCKET": a drop reason (enum skb_drop_reason), a reset reason
	// (enum sk_rst_reason), or the program's own (probe.Kind.OwnReasonName).
	Reason(kind probe.Kind, raw uint32, known bool) string
	// Location is "function+0xoffset", Function just the function.
	Location(addr uint64) string
	Function(addr uint64) string
}

// NotAvailable is the reason on kernels that pass none (drops before 5.17,
// resets before 6.10).
const NotAvailable = "NOT_AVAILABLE"

// runningKernel names values with the running kernel's BTF and kallsyms.
type runningKernel struct {
	reasons      *dropreason.Table
	resetReasons *dropreason.Table
	symbols      *kallsyms.Symbolizer
}

func (k runningKernel) Reason(kind probe.Kind, raw uint32, known bool) string {
	if !known {
		return NotAvailable
	}
	if name, ok := kind.OwnReasonName(raw); ok {
		return name
	}
	if kind == probe.KindReset {
		return k.resetReasons.Name(raw)
	}
	return k.reasons.Name(raw)
}

func (k runningKernel) Location(addr uint64) string { return k.symbols.Location(addr) }
func (k runningKernel) Function(addr uint64) string { return k.symbols.Function(addr) }
