// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"time"

	"github.com/tcpdrop/tcpdrop/internal/owners"
)

// OwnerStatus says whether a drop's owner is known: the value of
// tcp_drop.owner.
type OwnerStatus string

// The values of Owner.Status.
const (
	OwnerProcess OwnerStatus = "process" // Owner.Process names the socket's owner
	OwnerNone    OwnerStatus = "none"    // no socket a process holds: closed port, time-wait, orphaned, or a packet dropped before it met a socket that matched no listener
	OwnerUnknown OwnerStatus = "unknown" // a socket, but no process found holding it (closed since, or owners not resolved)
)

// Owner is who a drop belongs to: a process, or why there is none.
type Owner struct {
	Status  OwnerStatus
	Process owners.Process // when Status is OwnerProcess; else zero
}

// Owners finds the process holding a socket, by the socket's inode
// (owners.Resolver; tests use fixtures).
type Owners interface {
	// Lookup may wait for a scan (up to a second). seen is a time the
	// socket was known to exist (its drop was read, its listener listed):
	// a scan started after it answers for the socket, found or not.
	Lookup(inode uint64, seen time.Time) (owners.Process, bool)
	// Cached answers from what is known, and never waits.
	Cached(inode uint64) (owners.Process, bool)
}

// FindOwner finds the owner of the socket with the given inode, known to
// exist at seen (see Owners.Lookup); lookup may be nil (owners are not
// resolved). It may wait for a scan.
func FindOwner(lookup Owners, inode uint64, seen time.Time) Owner {
	if inode == 0 {
		return Owner{Status: OwnerNone}
	}
	if lookup == nil {
		return Owner{Status: OwnerUnknown}
	}
	p, ok := lookup.Lookup(inode, seen)
	if !ok {
		return Owner{Status: OwnerUnknown}
	}
	return Owner{Status: OwnerProcess, Process: p}
}
