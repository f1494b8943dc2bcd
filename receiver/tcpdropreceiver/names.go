//go:build linux

package tcpdropreceiver

import (
	"github.com/tcpdrop/tcpdrop/internal/dropreason"
	"github.com/tcpdrop/tcpdrop/internal/kallsyms"
)

// kernelNames turns the raw values the kernel reports into names. The
// receiver uses the running kernel's; tests use fixtures.
type kernelNames interface {
	// reason names a drop reason, e.g. "NO_SOCKET".
	reason(raw uint32, known bool) string
	// location is "function+0xoffset", function just the function.
	location(addr uint64) string
	function(addr uint64) string
}

// runningKernel names values with the running kernel's BTF and kallsyms.
type runningKernel struct {
	reasons *dropreason.Table
	symbols *kallsyms.Symbolizer
}

func (k runningKernel) reason(raw uint32, known bool) string {
	if !known {
		return notAvailable
	}
	return k.reasons.Name(raw)
}

func (k runningKernel) location(addr uint64) string { return k.symbols.Location(addr) }
func (k runningKernel) function(addr uint64) string { return k.symbols.Function(addr) }

// notAvailable is the reason on kernels that pass none (before 5.17).
const notAvailable = "NOT_AVAILABLE"
