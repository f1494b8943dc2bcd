// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// kfreeCounter counts, by drop reason, the kfree_skb calls for TCP segments
// to one destination port: what the project's probe would see of a
// listener's drops. On a kernel that passes no reason (before 5.17) all are
// counted under 0. A test-only program written with the asm package, so the
// tests need no compiler and do not depend on the probe being changed.
// maxReason bounds the core drop reasons counted (128 on 6.18).
const maxReason = 1024

type kfreeCounter struct {
	m *ebpf.Map
	p *ebpf.Program
	l link.Link
}

// memberOffset finds a (possibly nested in anonymous structs or unions)
// member's byte offset.
func memberOffset(spec *btf.Spec, typ, field string) (uint32, error) {
	var s *btf.Struct
	if err := spec.TypeByName(typ, &s); err != nil {
		return 0, err
	}
	if off, ok := findMember(s.Members, field); ok {
		return off, nil
	}
	return 0, fmt.Errorf("no member %s.%s in kernel BTF", typ, field)
}

func findMember(ms []btf.Member, field string) (uint32, bool) {
	for _, m := range ms {
		if m.Name == field {
			return m.Offset.Bytes(), true
		}
		if m.Name != "" {
			continue
		}
		var inner []btf.Member
		switch t := btf.UnderlyingType(m.Type).(type) {
		case *btf.Struct:
			inner = t.Members
		case *btf.Union:
			inner = t.Members
		}
		if off, ok := findMember(inner, field); ok {
			return m.Offset.Bytes() + off, true
		}
	}
	return 0, false
}

func newKfreeCounter(dport uint16, reasons bool) (*kfreeCounter, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, err
	}
	headOff, err := memberOffset(spec, "sk_buff", "head")
	if err != nil {
		return nil, err
	}
	thOff, err := memberOffset(spec, "sk_buff", "transport_header")
	if err != nil {
		return nil, err
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: maxReason})
	if err != nil {
		return nil, err
	}
	be := int32(dport>>8 | dport<<8)
	// The reason, ctx[2], or 0 where the tracepoint has no third argument
	// (reading past its last one fails the attach).
	reason := asm.Instructions{asm.LoadMem(asm.R1, asm.R6, 16, asm.DWord)}
	if !reasons {
		reason = asm.Instructions{asm.Mov.Imm(asm.R1, 0)}
	}
	// raw_tp/kfree_skb: ctx is (skb, location, reason, ...) as u64s.
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R6, 0, asm.DWord),
		// fp-8 = skb->head
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8), asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Reg(asm.R3, asm.R7), asm.Add.Imm(asm.R3, int32(headOff)),
		asm.FnProbeReadKernel.Call(),
		// fp-16 = skb->transport_header (u16, zero-extended)
		asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -16), asm.Mov.Imm(asm.R2, 2),
		asm.Mov.Reg(asm.R3, asm.R7), asm.Add.Imm(asm.R3, int32(thOff)),
		asm.FnProbeReadKernel.Call(),
		// fp-24 = the TCP ports
		asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.RFP, -24, asm.R1, asm.DWord),
		asm.LoadMem(asm.R3, asm.RFP, -8, asm.DWord),
		asm.LoadMem(asm.R4, asm.RFP, -16, asm.DWord),
		asm.Add.Reg(asm.R3, asm.R4),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -24), asm.Mov.Imm(asm.R2, 4),
		asm.FnProbeReadKernel.Call(),
		asm.LoadMem(asm.R1, asm.RFP, -22, asm.Half), // th->dest
		asm.JNE.Imm(asm.R1, be, "out"),
	}
	// counts[reason]++ for core reasons (subsystem reasons are >= 1<<16).
	// An array, so that every slot exists and concurrent drops on two
	// CPUs cannot race on creating one.
	insns = append(insns, reason...)
	insns = append(insns,
		asm.JGE.Imm(asm.R1, maxReason, "out"),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.Word),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -32),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint, Instructions: insns, License: "GPL"})
	if err != nil {
		m.Close()
		return nil, err
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "kfree_skb", Program: p})
	if err != nil {
		p.Close()
		m.Close()
		return nil, err
	}
	return &kfreeCounter{m: m, p: p, l: l}, nil
}

// counts returns the drops so far by raw reason value.
func (c *kfreeCounter) counts() map[uint32]uint64 {
	out := map[uint32]uint64{}
	var k uint32
	var v uint64
	it := c.m.Iterate()
	for it.Next(&k, &v) {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func (c *kfreeCounter) Close() {
	c.l.Close()
	c.p.Close()
	c.m.Close()
}
