// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"errors"

	"github.com/cilium/ebpf/btf"
)

const (
	// resetEnum names why the kernel sent a reset (include/net/rstreason.h,
	// 6.10+); like skb_drop_reason it is not UAPI.
	resetEnum   = "sk_rst_reason"
	resetPrefix = "SK_RST_REASON_"
)

// ResetsFromKernel builds the Table of reset reasons from the running
// kernel's BTF, as FromKernel does for drop reasons. A kernel without
// reset reasons (before 6.10) yields a Table that is not Available: every
// name is NOT_AVAILABLE.
func ResetsFromKernel() (*Table, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, err
	}
	return ResetsFromSpec(spec)
}

// ResetsFromSpec builds the Table of reset reasons (enum sk_rst_reason) from
// a BTF spec. The values are small and have no subsystems.
func ResetsFromSpec(spec *btf.Spec) (*Table, error) {
	if spec == nil {
		return nil, errors.New("dropreason: nil BTF spec")
	}
	reasons, err := findEnum(spec, resetEnum)
	if err != nil || reasons == nil {
		return &Table{}, err
	}
	t := &Table{available: true, byName: make(map[string]uint32)}
	t.addCore(reasons, resetPrefix)
	return t, nil
}
