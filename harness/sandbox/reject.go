// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// RejectTCPPortHostUnreachable adds, inside the namespace, the rule `tcp
// dport <port> counter reject with icmpx host-unreachable` to the input
// chain of DropTCPPort's table: a SYN to port is answered with an ICMP
// (ICMPv6) host (address) unreachable error, which the connecting socket
// reports as EHOSTUNREACH. Needs the kernel's nft_reject_inet.
func (n *Netns) RejectTCPPortHostUnreachable(port uint16) (*NftRule, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	c, err := n.nftConn()
	if err != nil {
		return nil, err
	}
	t, ch := nftChain(false)
	tag := []byte("tcpdrop-sandbox reject dport=" + strconv.Itoa(int(port)) + " id=" + strconv.FormatUint(ruleSeq.Add(1), 10))
	c.AddTable(t)
	c.AddChain(ch)
	c.AddRule(&nftables.Rule{
		Table: t,
		Chain: ch,
		Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, port)},
			&expr.Counter{},
			&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_HOST_UNREACH},
		},
		UserData: tag,
	})
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("sandbox: add nftables reject rule for port %d: %w", port, err)
	}
	rules, err := c.GetRules(t, ch)
	if err != nil {
		return nil, fmt.Errorf("sandbox: list nftables rules: %w", err)
	}
	for _, r := range rules {
		if bytes.Equal(r.UserData, tag) {
			return &NftRule{ns: n, port: port, handle: r.Handle}, nil
		}
	}
	return nil, fmt.Errorf("sandbox: nftables reject rule for port %d not found after adding it", port)
}
