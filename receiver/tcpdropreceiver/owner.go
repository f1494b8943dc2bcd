//go:build linux

package tcpdropreceiver

import "github.com/tcpdrop/tcpdrop/internal/owners"

// ownerLookup finds the process holding a socket, by the socket's inode
// (owners.Resolver; tests use fixtures).
type ownerLookup interface {
	Lookup(inode uint64) (owners.Owner, bool)
}

// The values of tcp_drop.owner: whether the drop's owner is known.
const (
	ownerProcess = "process" // process.pid names the socket's owner
	ownerNone    = "none"    // no socket a process holds: closed port, time-wait, orphaned, or a packet dropped before it met a socket that matched no listener
	ownerUnknown = "unknown" // a socket, but no process found holding it (closed since, or owner lookup off)
)

// attribution is who a drop belongs to.
type attribution struct {
	status string // one of the owner* values
	owner  owners.Owner
}

// attribute finds the owner of the socket with the given inode; lookup may
// be nil (owners are not resolved).
func attribute(lookup ownerLookup, inode uint64) attribution {
	if inode == 0 {
		return attribution{status: ownerNone}
	}
	if lookup == nil {
		return attribution{status: ownerUnknown}
	}
	o, ok := lookup.Lookup(inode)
	if !ok {
		return attribution{status: ownerUnknown}
	}
	return attribution{status: ownerProcess, owner: o}
}
