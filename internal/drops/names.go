// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/kallsyms"
)

// Names turns the raw values the kernel reports into names. The engine
// uses the running kernel's; tests use fixtures.
type Names interface {
	// Reason names a drop reason, e.g. "NO_SOCKET".
	Reason(raw uint32, known bool) string
	// Location is "function+0xoffset", Function just the function.
	Location(addr uint64) string
	Function(addr uint64) string
}

// NotAvailable is the reason on kernels that pass none (before 5.17).
const NotAvailable = "NOT_AVAILABLE"

// runningKernel names values with the running kernel's BTF and kallsyms.
type runningKernel struct {
	reasons *dropreason.Table
	symbols *kallsyms.Symbolizer
}

func (k runningKernel) Reason(raw uint32, known bool) string {
	if !known {
		return NotAvailable
	}
	return k.reasons.Name(raw)
}

func (k runningKernel) Location(addr uint64) string { return k.symbols.Location(addr) }
func (k runningKernel) Function(addr uint64) string { return k.symbols.Function(addr) }
