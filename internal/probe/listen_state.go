// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// The listen-state program (bpf/listen_state.c) puts a socket into the
// listener tables as it starts listening and takes it out as it stops, so
// that the tables are current between two SetListeners: a packet
// firewalled a millisecond after listen() finds its listener. It also
// keeps the last count of a listener that stops (TakeClosedListeners) and
// who made each socket connect or listen (SocketBirth). It is loaded
// apart from the tcp_drop program, with that program's listener maps: a
// kernel that refuses it still runs the tcp_drop program, whose tables are
// then only as fresh as the last SetListeners.

// attachListenState loads and attaches the listen-state program where the
// listener tables are used. Its failure is kept for ListenStateErr, not
// returned: the tables still work without it.
func (p *Probe) attachListenState(opts Options) {
	if !opts.MatchListeners && !opts.SkipQueueFull && !opts.SocketBirths {
		return
	}
	p.listenStateErr = p.loadListenState()
}

func (p *Probe) loadListenState() error {
	spec, err := loadTcpdropListen()
	if err != nil {
		return fmt.Errorf("reading the embedded listen-state program: %w", err)
	}
	for _, m := range spec.Maps {
		m.MaxEntries = MaxListeners
	}
	spec.Maps["tcpdrop_conns"].MaxEntries = MaxConns
	spec.Maps["tcpdrop_closed_listeners"].MaxEntries = maxClosedListeners
	spec.Maps["tcpdrop_sock_births"].MaxEntries = p.objs.TcpdropSockBirths.MaxEntries() // the replacement's size
	var objs struct {
		Prog   *ebpf.Program `ebpf:"tcpdrop_listen_state"`
		Closed *ebpf.Map     `ebpf:"tcpdrop_closed_listeners"`
	}
	err = spec.LoadAndAssign(&objs, &ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{
		"tcpdrop_listeners":      p.objs.TcpdropListeners,
		"tcpdrop_listener_socks": p.objs.TcpdropListenerSocks,
		"tcpdrop_conns":          p.objs.TcpdropConns,
		"tcpdrop_sock_births":    p.objs.TcpdropSockBirths,
	}})
	if err != nil {
		return fmt.Errorf("loading the listen-state program: %w", err)
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: objs.Prog})
	if err != nil {
		objs.Prog.Close()
		objs.Closed.Close()
		return fmt.Errorf("attaching to sock:inet_sock_set_state: %w", err)
	}
	p.listenProg, p.listenLink, p.closedListeners = objs.Prog, l, objs.Closed
	p.sockBirths = p.objs.TcpdropSockBirths // the tcp_drop program's, which it writes too
	return nil
}

// ListenStateErr tells why the listener tables do not follow listen() and
// close() as they happen (nil: they do); they are then only as current as
// the last SetListeners.
func (p *Probe) ListenStateErr() error { return p.listenStateErr }
