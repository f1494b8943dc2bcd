// SPDX-License-Identifier: Apache-2.0

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
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return fmt.Errorf("tcp_drop: the kernel exposes no BTF (/sys/kernel/btf/vmlinux): it needs CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2020 have it): %w", err)
	}
	if err := checkTracepoint(spec); err != nil {
		return err
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("tcp_drop: the kernel has no BPF ring buffer: Linux 5.8 or newer is needed: %w", err)
		}
		return explainLoadError(err)
	}
	return nil
}

// kfreeSkbTarget is the type in the kernel's BTF that a tp_btf program on
// the kfree_skb tracepoint is attached through.
const kfreeSkbTarget = "btf_trace_kfree_skb"

// checkTracepoint tells whether the kernel's BTF (spec) has the kfree_skb
// tracepoint the program attaches to.
func checkTracepoint(spec *btf.Spec) error {
	var target *btf.Typedef
	if err := spec.TypeByName(kfreeSkbTarget, &target); err != nil {
		return fmt.Errorf("tcp_drop: the kernel's BTF has no kfree_skb tracepoint (%s): the kernel was built without it (CONFIG_TRACEPOINTS) or is older than 5.5: %w", kfreeSkbTarget, err)
	}
	return nil
}

// explainLoadError turns a failed load into a message that says what to do.
// The kernel's own words (the verifier's log) follow it.
func explainLoadError(err error) error {
	// The verifier answers EACCES to most programs it rejects, with its log;
	// a missing privilege is EPERM, or EACCES before the verifier ran.
	var verr *ebpf.VerifierError
	verified := errors.As(err, &verr) && len(verr.Log) > 0
	if errors.Is(err, unix.EPERM) || (errors.Is(err, unix.EACCES) && !verified) {
		return fmt.Errorf("tcp_drop: not permitted to load eBPF programs: run as root, or give the binary CAP_BPF and CAP_PERFMON (Linux 5.8+; before 5.11 also CAP_SYS_RESOURCE), e.g. setcap cap_bpf,cap_perfmon,cap_syslog+ep <binary> (CAP_SYSLOG lets it read kernel symbol addresses): %w", err)
	}
	if verr != nil {
		return fmt.Errorf("tcp_drop: the kernel's verifier rejected the program (kernel too old or unusual configuration; Linux 5.10+ with BTF is needed; the verifier's log follows): %w", err)
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		return fmt.Errorf("tcp_drop: the kernel lacks a feature the program needs (Linux 5.10+ with BTF is needed): %w", err)
	}
	return fmt.Errorf("tcp_drop: loading the kernel program: %w", err)
}

func explainAttachError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return explainLoadError(err)
	}
	return fmt.Errorf("tcp_drop: attaching to the kfree_skb tracepoint (tp_btf, Linux 5.5+): %w", err)
}
