// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// MaxListeners is how many listening sockets the kernel program's listener
// table holds; SetListeners keeps the first ones and reports the rest.
const MaxListeners = 65536

// MaxConns is how many established connections the kernel's connection
// table holds (the owner of a packet dropped before it met its socket);
// past it the oldest are forgotten, and a drop of theirs has no owner.
// About 100 bytes each, allocated at load.
const MaxConns = 1 << 16

// SetListeners replaces the kernel program's listener table (see
// Options.MatchListeners and ListenerTable) with the given sockets: address
// -> socket inode; of two that are one address to the kernel (IPv4, and
// IPv4-mapped IPv6), the lower inode. It writes only what changed since
// the previous call. Not safe for concurrent use with itself.
func (p *Probe) SetListeners(listeners map[ListenerAddr]uint64) error {
	select {
	case <-p.closed:
		return ErrClosed
	default:
	}
	want := listenerKeys(listeners)
	if p.listeners == nil {
		p.listeners = map[tcpdropListenerKey]uint64{}
	}
	errs := p.deleteListenersNotIn(want)
	errs = append(errs, p.putListeners(want)...)
	inodes := make(map[uint64]bool, len(p.listeners))
	for _, ino := range p.listeners {
		inodes[ino] = true
	}
	errs = append(errs, p.refreshListenerSocks(inodes))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tcp_drop: updating the listener table: %w", err)
	}
	return nil
}

// listenerKeys is the listener table as the kernel keys it: two ways of
// writing one address are one entry.
func listenerKeys(listeners map[ListenerAddr]uint64) map[tcpdropListenerKey]uint64 {
	table := make(map[ListenerAddr]uint64, len(listeners))
	for la, ino := range listeners {
		addListener(table, la, ino)
	}
	want := make(map[tcpdropListenerKey]uint64, len(table))
	for la, ino := range table {
		want[la.key()] = ino
	}
	return want
}

// deleteListenersNotIn deletes from the kernel's table the entries written
// before that want no longer has.
func (p *Probe) deleteListenersNotIn(want map[tcpdropListenerKey]uint64) []error {
	var errs []error
	for key := range p.listeners {
		if _, ok := want[key]; ok {
			continue
		}
		if err := p.objs.TcpdropListeners.Delete(&key); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, err)
			continue
		}
		delete(p.listeners, key)
	}
	return errs
}

// putListeners writes the entries of want that are new or changed, as many
// new ones as the table has room for, and reports the rest.
func (p *Probe) putListeners(want map[tcpdropListenerKey]uint64) []error {
	var errs []error
	full := 0
	for key, ino := range want {
		old, ok := p.listeners[key]
		if ok && old == ino {
			continue
		}
		if !ok && len(p.listeners) >= MaxListeners {
			full++
			continue
		}
		if err := p.objs.TcpdropListeners.Put(&key, ino); err != nil {
			errs = append(errs, err)
			continue
		}
		p.listeners[key] = ino
	}
	if full > 0 {
		errs = append(errs, fmt.Errorf("%d listening sockets beyond the table's %d", full, MaxListeners))
	}
	return errs
}

// ListenersChangedIn returns the network namespaces whose entries in the
// kernel's listener table differ from what SetListeners last wrote: there
// the listen-state program saw a socket start or stop listening since
// (ListenStateErr nil), so user space's list of that namespace's listeners
// is out of date. One read of the table, no namespace entered. A socket
// that joins an address already taken (SO_REUSEPORT) changes no entry
// unless its inode is lower (bpf/listener_table.h). Not safe for
// concurrent use with SetListeners.
func (p *Probe) ListenersChangedIn() (map[uint32]bool, error) {
	select {
	case <-p.closed:
		return nil, ErrClosed
	default:
	}
	changed := map[uint32]bool{}
	present := make(map[tcpdropListenerKey]bool, len(p.listeners))
	var key tcpdropListenerKey
	var ino uint64
	it := p.objs.TcpdropListeners.Iterate()
	for it.Next(&key, &ino) {
		present[key] = true
		if want, ok := p.listeners[key]; !ok || want != ino {
			changed[key.Netns] = true
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("tcp_drop: reading the listener table: %w", err)
	}
	for key := range p.listeners {
		if !present[key] {
			changed[key.Netns] = true
		}
	}
	return changed, nil
}
