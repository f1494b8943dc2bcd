// SPDX-License-Identifier: Apache-2.0

package dropreason

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/cilium/ebpf/btf"
)

const vmlinuxBTF = "/sys/kernel/btf/vmlinux"

// FromKernel builds a Table from the running kernel's BTF. A kernel without
// BTF is an error; a kernel with BTF but without drop reasons (before 5.17)
// yields a Table that is not Available.
func FromKernel() (*Table, error) {
	return fromKernel(btf.LoadKernelSpec, vmlinuxBTF)
}

// fromKernel takes the loader and path as arguments so tests can simulate a
// kernel without BTF.
func fromKernel(load func() (*btf.Spec, error), path string) (*Table, error) {
	spec, err := load()
	if err != nil {
		if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) {
			return nil, fmt.Errorf("kernel BTF not found at %s: the kernel needs CONFIG_DEBUG_INFO_BTF=y: %w", path, err)
		}
		return nil, fmt.Errorf("load kernel BTF from %s: %w", path, err)
	}
	return FromSpec(spec)
}
