// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestLoadOrder(t *testing.T) {
	// nf_tables' and the diag modules' dependencies as on 6.1; xfrm_user
	// built in, a wanted module absent.
	deps := map[string][]string{
		"nfnetlink": nil,
		"nf_tables": {"nfnetlink", "libcrc32c"},
		"libcrc32c": nil,
		"inet_diag": nil,
		"tcp_diag":  {"inet_diag"},
		"udp_diag":  {"inet_diag"},
	}
	depends := func(name string) ([]string, bool, error) {
		d, ok := deps[name]
		return d, ok, nil
	}
	order, notes, err := loadOrder([]string{"nf_tables", "nfnetlink", "tcp_diag", "udp_diag", "xfrm_user"}, depends)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, " "), "nfnetlink libcrc32c nf_tables inet_diag tcp_diag udp_diag"; got != want {
		t.Errorf("order %q, want %q", got, want)
	}
	if strings.Join(notes, " ") != "xfrm_user" {
		t.Errorf("notes %q, want xfrm_user", notes)
	}
}

func TestLoadOrderErrors(t *testing.T) {
	cycle := func(name string) ([]string, bool, error) {
		return map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}}[name], true, nil
	}
	if _, _, err := loadOrder([]string{"a"}, cycle); err == nil || !strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Errorf("a cycle: %v", err)
	}
	broken := func(name string) ([]string, bool, error) {
		if name == "b" {
			return nil, false, fmt.Errorf("b.ko: bad ELF")
		}
		return []string{"b"}, true, nil
	}
	if _, _, err := loadOrder([]string{"a"}, broken); err == nil || !strings.Contains(err.Error(), "bad ELF") {
		t.Errorf("an unreadable module: %v", err)
	}
}

func TestModuleName(t *testing.T) {
	for file, want := range map[string]string{
		"kernel/net/netfilter/nf_tables.ko":   "nf_tables",
		"/x/kernel/net/ipv4/tcp_diag.ko.xz":   "tcp_diag",
		"kernel/lib/libcrc32c.ko.zst":         "libcrc32c",
		"kernel/drivers/net/virtio-net.ko.gz": "virtio_net",
	} {
		if got := moduleName(file); got != want {
			t.Errorf("%s: %s, want %s", file, got, want)
		}
	}
}
