// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// ClosedListener is a socket that stopped listening (closed, or shut down),
// as the listen-state program saw it stop: by then its port may be
// released, so it is known by its inode and cookie.
type ClosedListener struct {
	Netns  uint32 // network namespace inode
	Inode  uint64 // socket inode
	Cookie uint64 // socket cookie; 0 if sock_diag never listed the socket
	Drops  uint32 // sk_drops as it stopped: its last count
}

// maxClosedListeners is how many listeners that stopped listening the
// kernel keeps between two TakeClosedListeners (one listen-queue poll).
// Past it a listener's last count is not kept: its last overflows are
// still counted in its namespace, without it (owner none).
const maxClosedListeners = 4096

// TakeClosedListeners returns the listeners that stopped listening since
// the last call, and forgets them. Nil where the listen-state program is
// not loaded (ListenStateErr): then a listener that closed is known only as
// gone at the next dump, without its last count.
func (p *Probe) TakeClosedListeners() ([]ClosedListener, error) {
	select {
	case <-p.closed:
		return nil, ErrClosed
	default:
	}
	if p.closedListeners == nil {
		return nil, nil
	}
	var out []ClosedListener
	var ino uint64
	var cl tcpdropListenClosedListener
	var inodes []uint64
	it := p.closedListeners.Iterate()
	for it.Next(&ino, &cl) {
		out = append(out, ClosedListener{Netns: cl.Netns, Inode: ino, Cookie: cl.Cookie, Drops: cl.Drops})
		inodes = append(inodes, ino)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("tcp_drop: reading the closed listeners: %w", err)
	}
	// Socket inodes come from a counter, not reused: a record written
	// again between the read and the delete is the same socket's (it
	// listened and stopped again), which the watcher need not see twice.
	for _, ino := range inodes {
		if err := p.closedListeners.Delete(&ino); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return out, fmt.Errorf("tcp_drop: forgetting a closed listener: %w", err)
		}
	}
	return out, nil
}
