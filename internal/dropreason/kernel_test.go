package dropreason

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// kernelTable loads the running kernel's table and its enum, skipping when
// the kernel cannot provide them.
func kernelTable(t *testing.T) (*Table, *btf.Enum) {
	t.Helper()
	if _, err := os.Stat(vmlinuxBTF); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is missing: this kernel has no BTF", vmlinuxBTF)
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var enum *btf.Enum
	if err := spec.TypeByName(reasonEnum, &enum); err != nil {
		t.Skipf("kernel has no enum %s (before 5.17?): %v", reasonEnum, err)
	}
	table, err := FromKernel()
	if err != nil {
		t.Fatal(err)
	}
	if !table.Available() {
		t.Fatal("Available() = false on a kernel with the enum")
	}
	return table, enum
}

func TestKernelNames(t *testing.T) {
	table, enum := kernelTable(t)
	for _, name := range []string{"NO_SOCKET", "NETFILTER_DROP", "TCP_LISTEN_OVERFLOW"} {
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
			t.Errorf("kernel enum has no %s%s", reasonPrefix, name)
		}
	}
}

func TestKernelRoundTrip(t *testing.T) {
	table, _ := kernelTable(t)
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
