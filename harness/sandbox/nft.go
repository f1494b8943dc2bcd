// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Names of the nftables objects DropTCPPort makes inside the namespace.
const (
	NftTable       = "tcpdrop_sandbox" // family inet
	NftChain       = "input"           // hook input, priority filter, policy accept
	NftOutputChain = "output"          // DropTCPPortOutput's: hook output, likewise
)

var ruleSeq atomic.Uint64

// NftRule is a `tcp dport <port> counter drop` rule inside a namespace.
type NftRule struct {
	ns     *Netns
	port   uint16
	handle uint64
	output bool // in the output chain
}

// nftChain is the table and the input chain, or the output chain.
func nftChain(output bool) (*nftables.Table, *nftables.Chain) {
	t := &nftables.Table{Name: NftTable, Family: nftables.TableFamilyINet}
	policy := nftables.ChainPolicyAccept
	name, hook := NftChain, nftables.ChainHookInput
	if output {
		name, hook = NftOutputChain, nftables.ChainHookOutput
	}
	c := &nftables.Chain{
		Name:     name,
		Table:    t,
		Type:     nftables.ChainTypeFilter,
		Hooknum:  hook,
		Priority: nftables.ChainPriorityFilter,
		Policy:   &policy,
	}
	return t, c
}

// nftConn returns an nftables connection into the namespace; the caller holds
// n.mu for reading while it is in use.
func (n *Netns) nftConn() (*nftables.Conn, error) {
	if !n.handle.IsOpen() {
		return nil, ErrClosed
	}
	c, err := nftables.New(nftables.WithNetNSFd(int(n.handle)))
	if err != nil {
		return nil, fmt.Errorf("sandbox: nftables: %w", err)
	}
	return c, nil
}

// DropTCPPort adds, inside the namespace, the rule `tcp dport <port> counter
// drop` to the input chain of the inet table NftTable (creating both if
// needed), so it applies to IPv4 and IPv6. Calling it again adds another rule.
func (n *Netns) DropTCPPort(port uint16) (*NftRule, error) {
	return n.dropTCPPort(port, false)
}

// DropTCPPortOutput is DropTCPPort in the output chain: the SYNs of
// connects to port are dropped as they leave, while they belong to their
// socket (a connect in progress whose SYN is retransmitted).
func (n *Netns) DropTCPPortOutput(port uint16) (*NftRule, error) {
	return n.dropTCPPort(port, true)
}

// DropTCPPortFlags is DropTCPPort for the segments whose TCP flags, of
// those in mask, are flags: `tcp dport <port> tcp flags & mask == flags
// counter drop`. A handshake's last ACK (and every bare ACK after it) is
// mask SYN|ACK|RST|FIN, flags ACK: the connect succeeds, the listener's
// request socket never hears of it.
func (n *Netns) DropTCPPortFlags(port uint16, mask, flags uint8) (*NftRule, error) {
	return n.dropTCPPort(port, false,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{mask}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{flags}})
}

// dropTCPPort adds the rule, with more matches after the port's.
func (n *Netns) dropTCPPort(port uint16, output bool, more ...expr.Any) (*NftRule, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	c, err := n.nftConn()
	if err != nil {
		return nil, err
	}
	t, ch := nftChain(output)
	tag := []byte("tcpdrop-sandbox dport=" + strconv.Itoa(int(port)) + " id=" + strconv.FormatUint(ruleSeq.Add(1), 10))
	c.AddTable(t)
	c.AddChain(ch)
	c.AddRule(&nftables.Rule{
		Table: t,
		Chain: ch,
		Exprs: append([]expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, port)},
		}, append(more,
			&expr.Counter{},
			&expr.Verdict{Kind: expr.VerdictDrop},
		)...),
		UserData: tag,
	})
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("sandbox: add nftables drop rule for port %d: %w", port, err)
	}
	rules, err := c.GetRules(t, ch)
	if err != nil {
		return nil, fmt.Errorf("sandbox: list nftables rules: %w", err)
	}
	for _, r := range rules {
		if bytes.Equal(r.UserData, tag) {
			return &NftRule{ns: n, port: port, handle: r.Handle, output: output}, nil
		}
	}
	return nil, fmt.Errorf("sandbox: nftables drop rule for port %d not found after adding it", port)
}

// Delete removes the rule from the namespace's ruleset.
func (r *NftRule) Delete() error {
	n := r.ns
	n.mu.RLock()
	defer n.mu.RUnlock()
	c, err := n.nftConn()
	if err != nil {
		return err
	}
	t, ch := nftChain(r.output)
	if err := c.DelRule(&nftables.Rule{Table: t, Chain: ch, Handle: r.handle}); err != nil {
		return fmt.Errorf("sandbox: delete nftables rule %d: %w", r.handle, err)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("sandbox: delete nftables rule %d (drop tcp port %d): %w", r.handle, r.port, err)
	}
	return nil
}

// Port is the destination port the rule drops.
func (r *NftRule) Port() uint16 { return r.port }

// Packets reads the rule's packet counter back from the kernel.
func (r *NftRule) Packets() (uint64, error) {
	n := r.ns
	n.mu.RLock()
	defer n.mu.RUnlock()
	c, err := n.nftConn()
	if err != nil {
		return 0, err
	}
	t, ch := nftChain(r.output)
	rules, err := c.GetRules(t, ch)
	if err != nil {
		return 0, fmt.Errorf("sandbox: list nftables rules: %w", err)
	}
	for _, rule := range rules {
		if rule.Handle != r.handle {
			continue
		}
		for _, e := range rule.Exprs {
			if ctr, ok := e.(*expr.Counter); ok {
				return ctr.Packets, nil
			}
		}
		return 0, fmt.Errorf("sandbox: nftables rule %d has no counter", r.handle)
	}
	return 0, fmt.Errorf("sandbox: nftables rule %d (drop tcp port %d) is gone", r.handle, r.port)
}
