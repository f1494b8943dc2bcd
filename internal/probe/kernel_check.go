package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// checkKernel says which required kernel feature is missing, before the
// verifier gives a less readable answer.
func checkKernel() error {
	if _, err := btf.LoadKernelSpec(); err != nil {
		return fmt.Errorf("tcp_drop: the kernel exposes no BTF (/sys/kernel/btf/vmlinux): it needs CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2020 have it): %w", err)
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("tcp_drop: the kernel has no BPF ring buffer: Linux 5.8 or newer is needed: %w", err)
		}
		return explainLoadError(err)
	}
	return nil
}

// explainLoadError turns a failed load into a message that says what to do.
func explainLoadError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("tcp_drop: not permitted to load eBPF programs: run as root, or give the binary CAP_BPF and CAP_PERFMON (Linux 5.8+; before 5.11 also CAP_SYS_RESOURCE), e.g. setcap cap_bpf,cap_perfmon,cap_syslog+ep <binary> (CAP_SYSLOG lets it read kernel symbol addresses): %w", err)
	}
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		return fmt.Errorf("tcp_drop: the kernel's verifier rejected the program (kernel too old or unusual configuration; Linux 5.8+ with BTF is needed): %w", err)
	}
	return fmt.Errorf("tcp_drop: loading the kernel program: %w", err)
}

func explainAttachError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return explainLoadError(err)
	}
	return fmt.Errorf("tcp_drop: attaching to the kfree_skb tracepoint (tp_btf, Linux 5.5+): %w", err)
}
