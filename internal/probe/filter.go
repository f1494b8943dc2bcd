// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// Filter selects which of the counted drops the program sends as events.
// Every drop is counted whatever it says; one it keeps from the ring is
// counted in Counts.Filtered. The zero Filter sends every drop.
type Filter struct {
	// ReasonMode says what Reasons are. Drops without a reason (kernels
	// before 5.17) are never filtered by reason.
	ReasonMode ReasonMode
	// Reasons are raw enum skb_drop_reason values (see dropreason.Table).
	Reasons []uint32
	// Ports, when not empty, are the only TCP ports whose drops are sent:
	// a drop is sent if its source or its destination port is one of them.
	Ports []uint16
}

// ReasonMode says what a Filter's Reasons are.
type ReasonMode uint8

// The values of reason_filter in bpf/tcpdrop/filters.h.
const (
	AllReasons      ReasonMode = iota // Reasons are not used
	ExcludedReasons                   // drops with one of Reasons are not sent
	OnlyReasons                       // only drops with one of Reasons are sent
)

// The reason set's shape in bpf/tcpdrop/filters.h: subsystems (a reason's high 16
// bits) times codes (its low 16 bits).
const (
	reasonSetSubsystems = 8
	reasonSetCodes      = 512
)

// reasonBits is the kernel's reason_set for reasons.
func reasonBits(reasons []uint32) ([reasonSetSubsystems * reasonSetCodes / 64]uint64, error) {
	var set [reasonSetSubsystems * reasonSetCodes / 64]uint64
	for _, r := range reasons {
		subsys, code := r>>16, r&0xffff
		if subsys >= reasonSetSubsystems || code >= reasonSetCodes {
			return set, fmt.Errorf("tcp_drop: drop reason %#x is beyond what the kernel program's filter holds (subsystem below %d, code below %d)",
				r, reasonSetSubsystems, reasonSetCodes)
		}
		bit := subsys*reasonSetCodes + code
		set[bit/64] |= 1 << (bit % 64)
	}
	return set, nil
}

// portBits is the kernel's port_set for ports.
func portBits(ports []uint16) [65536 / 64]uint64 {
	var set [65536 / 64]uint64
	for _, p := range ports {
		set[p/64] |= 1 << (p % 64)
	}
	return set
}

// setFilter sets the program's filter constants.
func setFilter(s *tcpdropSpecs, f Filter) error {
	if f.ReasonMode > OnlyReasons {
		return fmt.Errorf("tcp_drop: unknown reason filter mode %d", f.ReasonMode)
	}
	reasons, err := reasonBits(f.Reasons)
	if err != nil {
		return err
	}
	for _, v := range []struct {
		spec  *ebpf.VariableSpec
		name  string
		value any
	}{
		{s.ReasonFilter, "reason_filter", uint8(f.ReasonMode)},
		{s.ReasonSet, "reason_set", reasons},
		{s.PortFilter, "port_filter", boolByte(len(f.Ports) > 0)},
		{s.PortSet, "port_set", portBits(f.Ports)},
	} {
		if err := v.spec.Set(v.value); err != nil {
			return fmt.Errorf("tcp_drop: setting %s: %w", v.name, err)
		}
	}
	return nil
}
