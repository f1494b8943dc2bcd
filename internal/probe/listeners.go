package probe

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// MaxListeners is how many listening ports the kernel program's listener
// table holds; SetListeners keeps the first ones and reports the rest.
const MaxListeners = 65536

// ListenerPort is a listening socket as the kernel program looks it up: by
// network namespace and port.
type ListenerPort struct {
	Netns uint32 // network namespace inode
	Port  uint16
}

// SetListeners replaces the kernel program's listener table (see
// Options.MatchListeners) with the given sockets: port -> socket inode. It
// writes only what changed since the previous call. Not safe for concurrent
// use with itself.
func (p *Probe) SetListeners(want map[ListenerPort]uint64) error {
	select {
	case <-p.closed:
		return ErrClosed
	default:
	}
	if p.listeners == nil {
		p.listeners = map[ListenerPort]uint64{}
	}
	var errs []error
	for lp := range p.listeners {
		if _, ok := want[lp]; ok {
			continue
		}
		key := tcpdropListenerKey{Netns: lp.Netns, Port: lp.Port}
		if err := p.objs.TcpdropListeners.Delete(&key); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, err)
			continue
		}
		delete(p.listeners, lp)
	}
	full := 0
	for lp, ino := range want {
		if old, ok := p.listeners[lp]; ok && old == ino {
			continue
		}
		if _, ok := p.listeners[lp]; !ok && len(p.listeners) >= MaxListeners {
			full++
			continue
		}
		key := tcpdropListenerKey{Netns: lp.Netns, Port: lp.Port}
		if err := p.objs.TcpdropListeners.Put(&key, ino); err != nil {
			errs = append(errs, err)
			continue
		}
		p.listeners[lp] = ino
	}
	if full > 0 {
		errs = append(errs, fmt.Errorf("%d listening ports beyond the table's %d", full, MaxListeners))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tcp_drop: updating the listener table: %w", err)
	}
	return nil
}
