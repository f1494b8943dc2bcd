// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// The enums the catalogue covers, as the data file names them.
const (
	dropEnum  = "skb_drop_reason"
	resetEnum = "sk_rst_reason"
)

// enumNames are the names of both enums in one kernel's BTF, without their
// prefixes and sentinels; a nil slice is an enum the kernel lacks (drop
// reasons before 5.17, reset reasons before 6.10).
func enumNames(spec *btf.Spec) (map[string][]string, error) {
	drops, err := dropreason.FromSpec(spec)
	if err != nil {
		return nil, err
	}
	resets, err := resetNames(spec)
	if err != nil {
		return nil, err
	}
	return map[string][]string{dropEnum: drops.Names(), resetEnum: resets}, nil
}

// resetNames reads enum sk_rst_reason (include/net/rstreason.h); the
// receiver reports its members without the SK_RST_REASON_ prefix, as it
// does drop reasons.
func resetNames(spec *btf.Spec) ([]string, error) {
	var e *btf.Enum
	err := spec.TypeByName(resetEnum, &e)
	if errors.Is(err, btf.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, v := range e.Values {
		name := strings.TrimPrefix(v.Name, "SK_RST_REASON_")
		if name == "MAX" {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}
