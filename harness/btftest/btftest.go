// SPDX-License-Identifier: Apache-2.0

// Package btftest makes kernel BTF for tests: types encoded to the wire
// format and loaded back, the way a kernel's vmlinux BTF is read.
package btftest

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// SpecOf builds a kernel BTF holding only types.
func SpecOf(t testing.TB, types ...btf.Type) *btf.Spec {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}
