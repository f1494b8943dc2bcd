// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"fmt"
	"os"
)

// OneHandshakeRetry makes the namespace's handshakes give up early
// (tcp_syn_retries and tcp_synack_retries 1): a listener's request sends
// its SYN-ACK again once, a connect whose SYNs are dropped fails after
// about 3 s (the initial RTO of 1 s, then 2 s), its SYN sent again once,
// or twice when the timer falls on the limit (the kernel counts a SYN's
// retries in time).
func (n *Netns) OneHandshakeRetry() error {
	return n.Do(func() error {
		for _, name := range []string{"tcp_syn_retries", "tcp_synack_retries"} {
			// /proc/sys/net is the namespace of the thread that opens it.
			if err := os.WriteFile("/proc/sys/net/ipv4/"+name, []byte("1\n"), 0); err != nil {
				return fmt.Errorf("sandbox: %s: %w", name, err)
			}
		}
		return nil
	})
}
