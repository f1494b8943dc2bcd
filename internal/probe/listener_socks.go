// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Kernels before 6.11 pass kfree_skb no socket, so a segment of a handshake
// in progress is dropped with none, and an overflow of its listener's accept
// queue cannot be told from another drop by its socket (Options.SkipQueueFull).
// There the program finds the listener itself: its inode from the listener
// table, its kernel socket from tcpdrop_listener_socks, which an iterator
// over every task's open files fills each time the listener table is set.

// attachListenerSocks attaches the iterator where it is needed: SkipQueueFull
// on a kernel that passes no socket.
func (p *Probe) attachListenerSocks(opts Options) error {
	if !opts.SkipQueueFull {
		return nil
	}
	f, err := KernelFeatures()
	if err != nil {
		return err
	}
	if f.Socket {
		return nil
	}
	it, err := link.AttachIter(link.IterOptions{Program: p.objs.TcpdropListenerSocksIter})
	if err != nil {
		return fmt.Errorf("tcp_drop: attaching the iterator over open files (task_file, Linux 5.8+): %w", err)
	}
	p.socksIter = it
	return nil
}

// refreshListenerSocks runs the iterator, then forgets the sockets of
// listeners no longer in the table (inodes: its values).
func (p *Probe) refreshListenerSocks(inodes map[uint64]bool) error {
	if p.socksIter == nil {
		return nil
	}
	rd, err := p.socksIter.Open()
	if err != nil {
		return fmt.Errorf("tcp_drop: running the iterator over open files: %w", err)
	}
	_, err = io.Copy(io.Discard, rd)
	if cerr := rd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tcp_drop: running the iterator over open files: %w", err)
	}
	var stale []uint64
	var ino, addr uint64
	entries := p.objs.TcpdropListenerSocks.Iterate()
	for entries.Next(&ino, &addr) {
		if !inodes[ino] {
			stale = append(stale, ino)
		}
	}
	if err := entries.Err(); err != nil {
		return fmt.Errorf("tcp_drop: reading the listeners' sockets: %w", err)
	}
	for _, ino := range stale {
		if err := p.objs.TcpdropListenerSocks.Delete(&ino); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("tcp_drop: forgetting a listener's socket: %w", err)
		}
	}
	return nil
}
