// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestImageBTF: the BTF is found in a gzip'd payload that follows other
// bytes (a boot stub), with bytes after it, and in a plain image.
func TestImageBTF(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("no gzip")
	}
	e := &btf.Enum{Name: resetEnum, Size: 4, Values: []btf.EnumValue{{Name: "SK_RST_REASON_NO_SOCKET", Value: 1}, {Name: "SK_RST_REASON_MAX", Value: 2}}}
	b, err := btf.NewBuilder([]btf.Type{e}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	vmlinux := append(append([]byte("ELF and code "), raw...), " more sections"...)
	var payload bytes.Buffer
	zw := gzip.NewWriter(&payload)
	if _, err := zw.Write(vmlinux); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	stub := []byte("MZ boot stub, no magic here")
	dir := t.TempDir()
	for name, image := range map[string][]byte{
		"gzip":  append(append(stub, payload.Bytes()...), "trailer"...),
		"plain": append(stub, vmlinux...),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, image, 0o644); err != nil {
			t.Fatal(err)
		}
		spec, err := imageBTF(context.Background(), path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		names, err := resetNames(spec)
		if err != nil || len(names) != 1 || names[0] != "NO_SOCKET" {
			t.Fatalf("%s: reset names %v, %v; want [NO_SOCKET]", name, names, err)
		}
	}
}
