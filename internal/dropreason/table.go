// SPDX-License-Identifier: Apache-2.0

// Package dropreason names the reasons the kernel gives for dropping packets.
//
// enum skb_drop_reason is not UAPI: its numbering changes between kernel
// releases, so the names are read from the running kernel's BTF instead of a
// table compiled into the binary.
package dropreason

import (
	"strconv"
	"strings"
)

const (
	// reasonPrefix is stripped from every enum member name.
	reasonPrefix = "SKB_DROP_REASON_"
	// subsysPrefix is stripped from the members of enum skb_drop_reason_subsys.
	subsysPrefix = "SKB_DROP_REASON_SUBSYS_"

	// Since 6.4 a reason carries its subsystem in the high 16 bits.
	subsysShift = 16
	codeMask    = 0xffff

	// notAvailable is every name of a Table built for a kernel without reasons.
	notAvailable = "NOT_AVAILABLE"
)

// Table maps raw drop reasons to names. It is immutable once built and safe
// for concurrent use. A nil *Table behaves like one that is not Available.
type Table struct {
	available bool
	// core holds the name of each core reason at the index of its value;
	// "" marks a value the enum does not have.
	core []string
	// names lists the core names sorted by value.
	names []string
	// byName is the reverse of core.
	byName map[string]uint32
	// subsys holds the subsystem names indexed by subsystem id.
	subsys []string
}

// Available reports whether the kernel has enum skb_drop_reason (5.17+).
func (t *Table) Available() bool {
	return t != nil && t.available
}

// Name returns the name of a raw reason as the kernel passes it to the
// kfree_skb tracepoint: "NO_SOCKET" for a core reason, "OPENVSWITCH:3" for a
// reason of another subsystem, "UNKNOWN_<n>" for a core value the enum does
// not have, and "NOT_AVAILABLE" when the Table is not Available.
// Core names are precomputed, so the common case does not allocate.
func (t *Table) Name(raw uint32) string {
	if !t.Available() {
		return notAvailable
	}
	sub, code := raw>>subsysShift, raw&codeMask
	if sub == 0 {
		if int(code) < len(t.core) && t.core[code] != "" {
			return t.core[code]
		}
		return "UNKNOWN_" + strconv.FormatUint(uint64(raw), 10)
	}
	var subName string
	if int(sub) < len(t.subsys) {
		subName = t.subsys[sub]
	}
	if subName == "" {
		subName = "SUBSYS_" + strconv.FormatUint(uint64(sub), 10)
	}
	return subName + ":" + strconv.FormatUint(uint64(code), 10)
}

// Value returns the raw value of a core reason. It accepts the names Names
// returns, and also the full enum member name ("SKB_DROP_REASON_NO_SOCKET"),
// so that configuration can use either spelling.
func (t *Table) Value(name string) (uint32, bool) {
	if !t.Available() {
		return 0, false
	}
	if v, ok := t.byName[name]; ok {
		return v, true
	}
	if short, ok := strings.CutPrefix(name, reasonPrefix); ok {
		v, ok := t.byName[short]
		return v, ok
	}
	return 0, false
}

// Names returns all core reason names sorted by value, without sentinels
// such as MAX. The caller may modify the returned slice.
func (t *Table) Names() []string {
	if !t.Available() {
		return nil
	}
	return append([]string(nil), t.names...)
}
