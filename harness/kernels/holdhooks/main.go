// SPDX-License-Identifier: Apache-2.0

// Command holdhooks runs in the test guest before the tests: it registers
// an accept-only nftables base chain on every IPv4 and IPv6 hook of the
// guest's first network namespace and exits, leaving them in place.
//
// Why: the kernel turns its netfilter call sites on and off by rewriting
// its own code (a static key per family and hook) each time the first
// chain on a hook comes or the last one goes, as the tests' drop rules do
// in their namespaces many times a minute. Under qemu's multi-threaded
// software emulation, a vCPU can run such a site mid-rewrite and the guest
// oopses ("int3" in raw_sendmsg, nf_hooks_needed[ipv4][local_out], on
// 6.12 amd64). With a chain always on each hook, no test flips those keys.
package main

import (
	"fmt"
	"os"

	"github.com/google/nftables"
)

func main() {
	if err := hold(); err != nil {
		fmt.Fprintln(os.Stderr, "holdhooks:", err)
		os.Exit(1)
	}
}

func hold() error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	// An inet chain registers the hook for both IPv4 and IPv6.
	t := c.AddTable(&nftables.Table{Name: "harness_hold_hooks", Family: nftables.TableFamilyINet})
	accept := nftables.ChainPolicyAccept
	hooks := map[string]*nftables.ChainHook{
		"prerouting":  nftables.ChainHookPrerouting,
		"input":       nftables.ChainHookInput,
		"forward":     nftables.ChainHookForward,
		"output":      nftables.ChainHookOutput,
		"postrouting": nftables.ChainHookPostrouting,
	}
	for name, hook := range hooks {
		c.AddChain(&nftables.Chain{
			Name:     name,
			Table:    t,
			Type:     nftables.ChainTypeFilter,
			Hooknum:  hook,
			Priority: nftables.ChainPriorityFilter,
			Policy:   &accept,
		})
	}
	return c.Flush()
}
