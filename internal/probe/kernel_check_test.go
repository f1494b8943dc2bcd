// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/btftest"
)

// TestCheckTracepoint: a kernel whose BTF has no kfree_skb tracepoint is
// told so, by name, before any load is tried.
func TestCheckTracepoint(t *testing.T) {
	u64 := &btf.Int{Name: "u64", Size: 8}
	fn := &btf.Pointer{Target: &btf.FuncProto{Return: (*btf.Void)(nil)}}
	if err := checkTracepoint(btftest.SpecOf(t, &btf.Typedef{Name: kfreeSkbTarget, Type: fn})); err != nil {
		t.Fatalf("with the tracepoint: %v", err)
	}
	err := checkTracepoint(btftest.SpecOf(t, u64, &btf.Typedef{Name: "btf_trace_consume_skb", Type: fn}))
	if err == nil || !strings.Contains(err.Error(), "no kfree_skb tracepoint (btf_trace_kfree_skb)") {
		t.Fatalf("without the tracepoint: %v; want it named", err)
	}
}

// TestExplainLoadError: a verifier rejection and a missing kernel feature
// each start with a sentence that says what is wrong; the verifier's log
// follows.
func TestExplainLoadError(t *testing.T) {
	verr := &ebpf.VerifierError{Cause: unix.EACCES, Log: []string{"0: (79) r1 = *(u64 *)(r1 +24)", "invalid bpf_context access off=24 size=8"}}
	err := explainLoadError(fmt.Errorf("program tcpdrop_kfree: %w", verr))
	msg := fmt.Sprintf("%+v", err)
	if !strings.HasPrefix(msg, "tcp_drop: the kernel's verifier rejected the program") || !strings.Contains(msg, "invalid bpf_context access") {
		t.Errorf("verifier error explained as %q", msg)
	}
	if !errors.As(err, new(*ebpf.VerifierError)) {
		t.Error("the verifier's error is no longer in the chain")
	}
	missing := fmt.Errorf("raw_tp kfree_skb: %w", ebpf.ErrNotSupported)
	if msg := explainLoadError(missing).Error(); !strings.HasPrefix(msg, "tcp_drop: the kernel lacks a feature the program needs") {
		t.Errorf("missing feature explained as %q", msg)
	}
}

// TestExplainPermission: a load refused for want of privilege says so.
func TestExplainPermission(t *testing.T) {
	for _, err := range []error{
		&ebpf.VerifierError{Cause: unix.EPERM},
		&ebpf.VerifierError{Cause: unix.EACCES},
		fmt.Errorf("map create: %w", unix.EPERM),
	} {
		if msg := explainLoadError(err).Error(); !strings.HasPrefix(msg, "tcp_drop: not permitted to load eBPF programs") {
			t.Errorf("%v explained as %q", err, msg)
		}
	}
}
