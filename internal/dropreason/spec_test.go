// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/tcpdrop/tcpdrop/harness/btftest"
)

func reasonEnumOf(values ...btf.EnumValue) *btf.Enum {
	return &btf.Enum{Name: reasonEnum, Size: 4, Values: values}
}

func subsysEnumOf(values ...btf.EnumValue) *btf.Enum {
	return &btf.Enum{Name: subsysEnum, Size: 4, Values: values}
}

func fromTypes(t *testing.T, types ...btf.Type) *Table {
	t.Helper()
	table, err := FromSpec(btftest.SpecOf(t, types...))
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func TestNumberingFollowsTheSpec(t *testing.T) {
	// The same names numbered as in two different kernels: the table must
	// follow whatever the spec says, not any built-in numbering.
	older := fromTypes(t, reasonEnumOf(
		btf.EnumValue{Name: "SKB_DROP_REASON_NOT_SPECIFIED", Value: 2},
		btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3},
		btf.EnumValue{Name: "SKB_DROP_REASON_IP_RPFILTER", Value: 12},
		btf.EnumValue{Name: "SKB_DROP_REASON_NETFILTER_DROP", Value: 9},
		btf.EnumValue{Name: "SKB_DROP_REASON_MAX", Value: 13},
	))
	newer := fromTypes(t, reasonEnumOf(
		btf.EnumValue{Name: "SKB_NOT_DROPPED_YET", Value: 0},
		btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 7},
		btf.EnumValue{Name: "SKB_DROP_REASON_NETFILTER_DROP", Value: 12},
		btf.EnumValue{Name: "SKB_DROP_REASON_IP_RPFILTER", Value: 20},
		btf.EnumValue{Name: "SKB_DROP_REASON_MAX", Value: 21},
	))

	for _, tc := range []struct {
		table *Table
		raw   uint32
		want  string
	}{
		{older, 3, "NO_SOCKET"},
		{older, 12, "IP_RPFILTER"},
		{older, 9, "NETFILTER_DROP"},
		{newer, 7, "NO_SOCKET"},
		{newer, 12, "NETFILTER_DROP"},
		{newer, 20, "IP_RPFILTER"},
		// A member without the prefix keeps its name.
		{newer, 0, "SKB_NOT_DROPPED_YET"},
		// Values the enum does not have, including the MAX sentinel.
		{older, 13, "UNKNOWN_13"},
		{newer, 3, "UNKNOWN_3"},
		{newer, 0xffff, "UNKNOWN_65535"},
	} {
		if got := tc.table.Name(tc.raw); got != tc.want {
			t.Errorf("Name(%d) = %q, want %q", tc.raw, got, tc.want)
		}
	}

	if v, ok := older.Value("NETFILTER_DROP"); !ok || v != 9 {
		t.Errorf("older Value(NETFILTER_DROP) = %d, %v; want 9, true", v, ok)
	}
	if v, ok := newer.Value("NETFILTER_DROP"); !ok || v != 12 {
		t.Errorf("newer Value(NETFILTER_DROP) = %d, %v; want 12, true", v, ok)
	}
	if v, ok := newer.Value("SKB_DROP_REASON_NO_SOCKET"); !ok || v != 7 {
		t.Errorf("Value with prefix = %d, %v; want 7, true", v, ok)
	}
	for _, name := range []string{"MAX", "SKB_DROP_REASON_MAX", "NOPE", ""} {
		if v, ok := newer.Value(name); ok {
			t.Errorf("Value(%q) = %d, true; want not found", name, v)
		}
	}

	want := []string{"NOT_SPECIFIED", "NO_SOCKET", "NETFILTER_DROP", "IP_RPFILTER"}
	if got := older.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestSubsystems(t *testing.T) {
	table := fromTypes(t,
		reasonEnumOf(
			btf.EnumValue{Name: "SKB_DROP_REASON_NOT_SPECIFIED", Value: 2},
			btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3},
			btf.EnumValue{Name: "SKB_DROP_REASON_MAX", Value: 4},
			btf.EnumValue{Name: "SKB_DROP_REASON_SUBSYS_MASK", Value: 0xffff0000},
		),
		subsysEnumOf(
			btf.EnumValue{Name: "SKB_DROP_REASON_SUBSYS_CORE", Value: 0},
			btf.EnumValue{Name: "SKB_DROP_REASON_SUBSYS_MAC80211_UNUSABLE", Value: 1},
			btf.EnumValue{Name: "SKB_DROP_REASON_SUBSYS_OPENVSWITCH", Value: 2},
			btf.EnumValue{Name: "SKB_DROP_REASON_SUBSYS_NUM", Value: 3},
		),
	)
	for _, tc := range []struct {
		raw  uint32
		want string
	}{
		{3, "NO_SOCKET"},
		{2<<16 | 3, "OPENVSWITCH:3"},
		{1<<16 | 0x65, "MAC80211_UNUSABLE:101"},
		{2 << 16, "OPENVSWITCH:0"},
		// NUM is a count, not a subsystem.
		{3<<16 | 1, "SUBSYS_3:1"},
		{0xffff<<16 | 0xffff, "SUBSYS_65535:65535"},
		{4, "UNKNOWN_4"},
	} {
		if got := table.Name(tc.raw); got != tc.want {
			t.Errorf("Name(%#x) = %q, want %q", tc.raw, got, tc.want)
		}
	}
	want := []string{"NOT_SPECIFIED", "NO_SOCKET"}
	if got := table.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q (sentinels must be skipped)", got, want)
	}
	if _, ok := table.Value("SUBSYS_MASK"); ok {
		t.Error("Value(SUBSYS_MASK) found a sentinel")
	}
}

func TestSubsystemsWithoutSubsysEnum(t *testing.T) {
	// 5.17 to 6.3: reasons but no subsystems.
	table := fromTypes(t, reasonEnumOf(btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3}))
	if got, want := table.Name(2<<16|3), "SUBSYS_2:3"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
	if got, want := table.Name(3), "NO_SOCKET"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestMissingEnum(t *testing.T) {
	// A kernel before 5.17 has BTF, even other enums, but no skb_drop_reason.
	other := &btf.Enum{Name: "tcp_ca_event", Size: 4, Values: []btf.EnumValue{{Name: "CA_EVENT_TX_START", Value: 0}}}
	table := fromTypes(t, other, &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, subsysEnumOf())
	if table.Available() {
		t.Fatal("Available() = true without enum skb_drop_reason")
	}
	for _, raw := range []uint32{0, 3, 2<<16 | 3, 0xffffffff} {
		if got := table.Name(raw); got != "NOT_AVAILABLE" {
			t.Errorf("Name(%#x) = %q, want NOT_AVAILABLE", raw, got)
		}
	}
	if names := table.Names(); len(names) != 0 {
		t.Errorf("Names() = %q, want none", names)
	}
	if _, ok := table.Value("NO_SOCKET"); ok {
		t.Error("Value found a name in a table that is not available")
	}
}

func TestNilTable(t *testing.T) {
	var table *Table
	if table.Available() || table.Name(3) != "NOT_AVAILABLE" || table.Names() != nil {
		t.Error("nil Table must behave as not available")
	}
	if _, ok := table.Value("NO_SOCKET"); ok {
		t.Error("nil Table Value found a name")
	}
	if _, err := FromSpec(nil); err == nil {
		t.Error("FromSpec(nil) returned no error")
	}
}

func TestOddEnums(t *testing.T) {
	// Aliases, a forward declaration, a signed enum with a negative value:
	// none may confuse the table or panic.
	fwd := &btf.Enum{Name: reasonEnum, Size: 4}
	signed := &btf.Enum{Name: reasonEnum, Size: 4, Signed: true, Values: []btf.EnumValue{
		{Name: "SKB_DROP_REASON_NEGATIVE", Value: ^uint64(0)},
		{Name: "SKB_DROP_REASON_FIRST", Value: 5},
		{Name: "SKB_DROP_REASON_ALIAS", Value: 5},
		{Name: "SKB_DROP_REASON_", Value: 6},
	}}
	table := fromTypes(t, fwd, signed)
	if got := table.Name(5); got != "FIRST" {
		t.Errorf("Name(5) = %q, want the first declared alias FIRST", got)
	}
	if v, ok := table.Value("ALIAS"); !ok || v != 5 {
		t.Errorf("Value(ALIAS) = %d, %v; want 5, true", v, ok)
	}
	if got := table.Name(0xffff); got != "UNKNOWN_65535" {
		t.Errorf("Name(0xffff) = %q", got)
	}
	if want, got := []string{"FIRST", "ALIAS"}, table.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestFromKernelWithoutBTF(t *testing.T) {
	load := func() (*btf.Spec, error) { return nil, btf.ErrNotSupported }
	_, err := fromKernel(load, t.TempDir()+"/vmlinux")
	if err == nil {
		t.Fatal("no error for a kernel without BTF")
	}
	if !errors.Is(err, btf.ErrNotSupported) {
		t.Errorf("error %q does not wrap the cause", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("CONFIG_DEBUG_INFO_BTF=y")) {
		t.Errorf("error %q does not say what the kernel needs", err)
	}
}

func TestNameDoesNotAllocate(t *testing.T) {
	table := fromTypes(t, reasonEnumOf(btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3}))
	if n := testing.AllocsPerRun(100, func() { _ = table.Name(3) }); n != 0 {
		t.Errorf("Name allocates %v times per call for a core reason", n)
	}
}
