// SPDX-License-Identifier: Apache-2.0

// Package kallsyms turns kernel addresses into "function+0xoffset" using the
// symbol table the kernel publishes in /proc/kallsyms.
package kallsyms

import (
	"strconv"
	"sync"
)

// RestrictedWarning is what to tell the operator, once, when Restricted.
const RestrictedWarning = "kernel symbol addresses are hidden (kernel.kptr_restrict, or the process lacks CAP_SYSLOG): drop locations are reported as raw addresses"

// symbol is one text symbol; its name is names[off:end].
type symbol struct {
	addr     uint64
	off, end uint32
}

// Symbolizer resolves kernel text addresses. It is safe for concurrent use;
// a nil or zero Symbolizer resolves nothing.
type Symbolizer struct {
	syms       []symbol // sorted by addr, one per address
	names      string
	restricted bool

	cache locationCache
	warn  sync.Once
}

// Restricted reports whether every address in the input was zero, which is
// how the kernel hides addresses (kptr_restrict) from unprivileged readers.
// Nothing resolves then, and Location returns raw hex addresses. The caller
// should say so once, e.g. right after LoadFile:
//
//	s.WarnIfRestricted(func(msg string) { logger.Warn(msg) })
func (s *Symbolizer) Restricted() bool {
	return s != nil && s.restricted
}

// WarnIfRestricted calls warn with RestrictedWarning the first time it is
// called on a Restricted Symbolizer, and never again. It reports Restricted.
func (s *Symbolizer) WarnIfRestricted(warn func(msg string)) bool {
	if !s.Restricted() {
		return false
	}
	if warn != nil {
		s.warn.Do(func() { warn(RestrictedWarning) })
	}
	return true
}

// Resolve returns the function containing addr: the text symbol with the
// greatest start <= addr. Symbol sizes are unknown, so an address above the
// last symbol's start or below the first one does not resolve.
func (s *Symbolizer) Resolve(addr uint64) (function string, offset uint64, ok bool) {
	if s == nil || len(s.syms) == 0 {
		return "", 0, false
	}
	// Find the first symbol starting after addr; the one before it holds addr.
	lo, hi := 0, len(s.syms)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.syms[mid].addr <= addr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return "", 0, false
	}
	sym := s.syms[lo-1]
	if lo == len(s.syms) && addr != sym.addr {
		return "", 0, false
	}
	return s.names[sym.off:sym.end], addr - sym.addr, true
}

// Location formats addr as "tcp_v4_rcv+0x63", or as "0xffffffff81234567"
// when it does not resolve. Resolved locations are cached.
func (s *Symbolizer) Location(addr uint64) string {
	if s == nil {
		return hex(addr)
	}
	if loc, ok := s.cache.get(addr); ok {
		return loc
	}
	name, off, ok := s.Resolve(addr)
	if !ok {
		return hex(addr)
	}
	loc := name + "+0x" + strconv.FormatUint(off, 16)
	s.cache.put(addr, loc)
	return loc
}

// Function returns the name of the function containing addr, or addr in hex
// when it does not resolve.
func (s *Symbolizer) Function(addr uint64) string {
	if name, _, ok := s.Resolve(addr); ok {
		return name
	}
	return hex(addr)
}

func hex(addr uint64) string {
	return "0x" + strconv.FormatUint(addr, 16)
}
