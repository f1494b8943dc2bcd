// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf/btf"
)

const (
	reasonEnum = "skb_drop_reason"
	subsysEnum = "skb_drop_reason_subsys"
)

// FromSpec builds a Table from a BTF spec. A spec without enum
// skb_drop_reason yields a Table that is not Available, not an error: that is
// simply a kernel older than 5.17.
func FromSpec(spec *btf.Spec) (*Table, error) {
	if spec == nil {
		return nil, errors.New("dropreason: nil BTF spec")
	}
	reasons, err := findEnum(spec, reasonEnum)
	if err != nil {
		return nil, err
	}
	if reasons == nil {
		return &Table{}, nil
	}
	// Kernels before 6.4 have no subsystems; then every non-core reason is
	// shown as SUBSYS_<n>.
	subsys, err := findEnum(spec, subsysEnum)
	if err != nil {
		return nil, err
	}

	t := &Table{available: true, byName: make(map[string]uint32)}
	t.addCore(reasons, reasonPrefix)
	if subsys != nil {
		t.addSubsystems(subsys)
	}
	return t, nil
}

// findEnum returns the enum with the given name, or nil if the spec has none.
// When several types share the name (a forward declaration, say) the one
// with the most members wins.
func findEnum(spec *btf.Spec, name string) (*btf.Enum, error) {
	types, err := spec.AnyTypesByName(name)
	if errors.Is(err, btf.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dropreason: look up enum %s: %w", name, err)
	}
	var best *btf.Enum
	for _, typ := range types {
		if e, ok := typ.(*btf.Enum); ok && (best == nil || len(e.Values) > len(best.Values)) {
			best = e
		}
	}
	return best, nil
}

// addCore names the values of e by their members, without prefix.
func (t *Table) addCore(e *btf.Enum, prefix string) {
	type member struct {
		name  string
		value uint32
	}
	members := make([]member, 0, len(e.Values))
	maxValue := -1
	for _, v := range e.Values {
		name := strings.TrimPrefix(v.Name, prefix)
		// Core values fit in the low 16 bits; larger ones (SUBSYS_MASK,
		// or negative values of a signed enum) are not reasons.
		if v.Value > codeMask || name == "" || isSentinel(name) {
			continue
		}
		if _, dup := t.byName[name]; dup {
			continue
		}
		t.byName[name] = uint32(v.Value)
		members = append(members, member{name, uint32(v.Value)})
		maxValue = max(maxValue, int(v.Value))
	}
	// Stable, so that of two aliases of one value the first declared names it.
	slices.SortStableFunc(members, func(a, b member) int { return cmp.Compare(a.value, b.value) })

	t.core = make([]string, maxValue+1)
	t.names = make([]string, 0, len(members))
	for _, m := range members {
		if t.core[m.value] == "" {
			t.core[m.value] = m.name
		}
		t.names = append(t.names, m.name)
	}
}

func (t *Table) addSubsystems(e *btf.Enum) {
	maxID := -1
	for _, v := range e.Values {
		if v.Value > 0 && v.Value <= codeMask {
			maxID = max(maxID, int(v.Value))
		}
	}
	t.subsys = make([]string, maxID+1)
	for _, v := range e.Values {
		name := strings.TrimPrefix(v.Name, subsysPrefix)
		// Subsystem 0 is the core; its reasons come from the core enum.
		if v.Value == 0 || v.Value > codeMask || name == "" || isSentinel(name) {
			continue
		}
		if t.subsys[v.Value] == "" {
			t.subsys[v.Value] = name
		}
	}
}

// isSentinel reports whether a stripped member name marks a count or a mask
// rather than a reason or subsystem.
func isSentinel(name string) bool {
	switch name {
	case "MAX", "NUM", "SUBSYS_MASK":
		return true
	}
	return false
}
