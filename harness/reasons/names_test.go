// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func sameRows(a, b []nameRow) bool {
	return slices.EqualFunc(a, b, func(x, y nameRow) bool {
		return x.Enum == y.Enum && x.Name == y.Name && slices.Equal(x.Kernels, y.Kernels)
	})
}

// TestRows: the kernels without an enum come first, then its names in the
// newest kernel's order, then those only older kernels have.
func TestRows(t *testing.T) {
	kernels := []kernelNames{
		{Label: "5.10.262 amd64", Enums: map[string][]string{}},
		{Label: "6.1.192 amd64", Enums: map[string][]string{dropEnum: {"NOT_SPECIFIED", "OLD"}}},
		{Label: "6.12.118 amd64", Enums: map[string][]string{dropEnum: {"NOT_SPECIFIED", "NEW"}, resetEnum: {"NO_SOCKET"}}},
	}
	want := []nameRow{
		{dropEnum, absent, []string{"5.10.262 amd64"}},
		{dropEnum, "NOT_SPECIFIED", []string{"6.1.192 amd64", "6.12.118 amd64"}},
		{dropEnum, "NEW", []string{"6.12.118 amd64"}},
		{dropEnum, "OLD", []string{"6.1.192 amd64"}},
		{resetEnum, absent, []string{"5.10.262 amd64", "6.1.192 amd64"}},
		{resetEnum, "NO_SOCKET", []string{"6.12.118 amd64"}},
	}
	if got := rows(kernels); !sameRows(got, want) {
		t.Fatalf("rows = %v, want %v", got, want)
	}
}

// TestRowsRoundTrip: what writeRows writes, readRows reads back.
func TestRowsRoundTrip(t *testing.T) {
	want := []nameRow{
		{dropEnum, absent, []string{"5.10.262 amd64"}},
		{dropEnum, "NO_SOCKET", []string{"6.1.192 amd64", "6.1.192 arm64"}},
		{resetEnum, "TCP_STATE", []string{"6.12.118 amd64"}},
	}
	var buf bytes.Buffer
	if err := writeRows(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := readRows(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRows(got, want) {
		t.Fatalf("read back %v, want %v", got, want)
	}
	if _, err := readRows(strings.NewReader("skb_drop_reason\tNO_SOCKET\n")); err == nil {
		t.Fatal("a row without kernels was read")
	}
}

func TestVersions(t *testing.T) {
	got := versions([]string{"6.12.118 amd64", "6.1.192 amd64", "6.1.192 arm64", "6.18.44-fc-v1300 amd64 running", "7.3.4 arm64"})
	if want := "6.1, 6.12, 6.18, 7.3"; got != want {
		t.Fatalf("versions = %q, want %q", got, want)
	}
}
