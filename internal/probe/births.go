// SPDX-License-Identifier: Apache-2.0

package probe

// SocketBirth is the process that made a socket connect or listen, as the
// listen-state program saw it do so (Options.SocketBirths), or, for a
// socket without such a record (an accepted one), the process that closed
// it with a reset, as the reset program saw it (Options.Resets).
type SocketBirth struct {
	PID  int    // the process (thread group) id
	Comm string // its name then
}

// SocketBirth returns who made the socket with the given inode connect or
// listen (or closed it with a reset), false if the programs did not see it
// (the socket is older than them, was accepted and closed without a reset,
// or was forgotten among the oldest of more than MaxListeners sockets).
// Safe for concurrent use.
func (p *Probe) SocketBirth(inode uint64) (SocketBirth, bool) {
	if p.sockBirths == nil {
		return SocketBirth{}, false
	}
	var b tcpdropSockBirth
	if err := p.sockBirths.Lookup(&inode, &b); err != nil {
		return SocketBirth{}, false // not there (ebpf.ErrKeyNotExist), or the probe closed
	}
	comm := make([]byte, 0, len(b.Comm))
	for _, c := range b.Comm {
		if c == 0 {
			break
		}
		comm = append(comm, byte(c))
	}
	return SocketBirth{PID: int(b.Tgid), Comm: string(comm)}, true
}
