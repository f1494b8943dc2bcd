// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// kernelTable loads the running kernel's table and its enum (nil before
// 5.17, when the kernel has none), skipping when the kernel has no BTF.
func kernelTable(t *testing.T) (*Table, *btf.Enum) {
	t.Helper()
	if _, err := os.Stat(vmlinuxBTF); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is missing: this kernel has no BTF", vmlinuxBTF)
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	table, err := FromKernel()
	if err != nil {
		t.Fatal(err)
	}
	var enum *btf.Enum
	if err := spec.TypeByName(reasonEnum, &enum); err != nil {
		if table.Available() {
			t.Fatalf("Available() = true on a kernel without enum %s", reasonEnum)
		}
		return table, nil
	}
	if !table.Available() {
		t.Fatal("Available() = false on a kernel with the enum")
	}
	return table, enum
}

// TestKernelNames: the reasons the project looks up by name have the
// kernel's values, those the kernel's enum lacks (TCP_LISTEN_OVERFLOW before
// 6.16) are reported missing, and a kernel without reasons (before 5.17)
// names every value NOT_AVAILABLE.
func TestKernelNames(t *testing.T) {
	table, enum := kernelTable(t)
	names := []string{"NOT_SPECIFIED", "NO_SOCKET", "NETFILTER_DROP", "TCP_LISTEN_OVERFLOW"}
	if enum == nil {
		for _, name := range names {
			if v, ok := table.Value(name); ok {
				t.Errorf("Value(%q) = %d on a kernel without reasons", name, v)
			}
		}
		if got := table.Name(3); got != notAvailable {
			t.Errorf("Name(3) = %q on a kernel without reasons, want %s", got, notAvailable)
		}
		if got := table.Names(); got != nil {
			t.Errorf("Names() = %v on a kernel without reasons", got)
		}
		return
	}
	for _, name := range names {
		found := false
		for _, v := range enum.Values {
			if v.Name != reasonPrefix+name {
				continue
			}
			found = true
			if got := table.Name(uint32(v.Value)); got != name {
				t.Errorf("Name(%d) = %q, want %q", v.Value, got, name)
			}
			if got, ok := table.Value(name); !ok || uint64(got) != v.Value {
				t.Errorf("Value(%q) = %d, %v; want %d", name, got, ok, v.Value)
			}
		}
		if !found {
			if got, ok := table.Value(name); ok {
				t.Errorf("Value(%q) = %d for a reason the kernel's enum does not have", name, got)
			}
			t.Logf("this kernel's enum has no %s%s", reasonPrefix, name)
		}
	}
	// Every kernel with reasons that the project is tested on (6.1+) has
	// these three; the project's tests rely on them.
	for _, name := range names[:3] {
		if _, ok := table.Value(name); !ok {
			t.Errorf("kernel enum has no %s%s", reasonPrefix, name)
		}
	}
}

func TestKernelRoundTrip(t *testing.T) {
	table, enum := kernelTable(t)
	if enum == nil {
		t.Skipf("this kernel has no drop reasons (enum %s, Linux 5.17+)", reasonEnum)
	}
	names := table.Names()
	if len(names) == 0 {
		t.Fatal("Names() is empty")
	}
	last := -1
	for _, name := range names {
		v, ok := table.Value(name)
		if !ok {
			t.Errorf("Value(%q) not found", name)
			continue
		}
		if int(v) < last {
			t.Errorf("Names() not sorted by value at %q", name)
		}
		last = int(v)
		if got := table.Name(v); got != name {
			t.Errorf("Name(Value(%q)) = %q", name, got)
		}
		if name == "MAX" || name == "SUBSYS_MASK" {
			t.Errorf("Names() contains sentinel %q", name)
		}
	}
	t.Logf("%d reasons, %s..%s", len(names), names[0], names[len(names)-1])
}
