// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/tcpdrop/tcpdrop/harness/btftest"
)

func TestResetReasonsFollowTheSpec(t *testing.T) {
	rst := &btf.Enum{Name: resetEnum, Size: 4, Values: []btf.EnumValue{
		{Name: "SK_RST_REASON_NOT_SPECIFIED", Value: 0},
		{Name: "SK_RST_REASON_NO_SOCKET", Value: 1},
		{Name: "SK_RST_REASON_TCP_ABORT_ON_CLOSE", Value: 11},
		{Name: "SK_RST_REASON_MAX", Value: 25},
	}}
	// A drop reason enum beside it must not leak into the reset names.
	drop := reasonEnumOf(btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3})
	table, err := ResetsFromSpec(btftest.SpecOf(t, rst, drop))
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[uint32]string{0: "NOT_SPECIFIED", 1: "NO_SOCKET", 11: "TCP_ABORT_ON_CLOSE", 3: "UNKNOWN_3", 25: "UNKNOWN_25"} {
		if got := table.Name(raw); got != want {
			t.Errorf("Name(%d) = %q, want %q", raw, got, want)
		}
	}
}

func TestResetReasonsNotAvailable(t *testing.T) {
	// A kernel before 6.10: drop reasons, no reset reasons.
	table, err := ResetsFromSpec(btftest.SpecOf(t, reasonEnumOf(btf.EnumValue{Name: "SKB_DROP_REASON_NO_SOCKET", Value: 3})))
	if err != nil {
		t.Fatal(err)
	}
	if table.Available() || table.Name(1) != "NOT_AVAILABLE" {
		t.Errorf("Available() = %v, Name(1) = %q; want false, NOT_AVAILABLE", table.Available(), table.Name(1))
	}
}

func TestResetReasonsOfTheRunningKernel(t *testing.T) {
	table, err := ResetsFromKernel()
	if err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	if !table.Available() {
		t.Skip("kernel without enum sk_rst_reason (before 6.10)")
	}
	if _, ok := table.Value("NO_SOCKET"); !ok {
		t.Errorf("the running kernel's sk_rst_reason has no NO_SOCKET: %v", table.Names())
	}
}
