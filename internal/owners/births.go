// SPDX-License-Identifier: Apache-2.0

package owners

// Births tells which process made a socket connect or listen, as the
// kernel saw it happen (probe.Probe.SocketBirth): pid and its name then.
type Births func(inode uint64) (pid int, comm string, ok bool)

// UseBirths makes the Resolver name, for a socket its scans do not find,
// the process that made it connect or listen: a client that made its drops
// and exited at once, a listener whose process was killed, a new socket
// while the scan budget is spent. A scan still comes first, as the holder
// of a socket can differ from its maker (a listener handed to another
// process, as systemd does). Call it before the first Lookup.
func (r *Resolver) UseBirths(b Births) { r.births = b }

// born is the owner of a socket by its birth: the process as /proc shows it
// now if it is still there (and still the same process: its name), else its
// pid and name as the kernel recorded them.
func (r *Resolver) born(inode uint64) (Process, bool) {
	if r.births == nil {
		return Process{}, false
	}
	pid, comm, ok := r.births(inode)
	if !ok {
		return Process{}, false
	}
	r.fromBirth.Add(1)
	var buf [4 << 10]byte
	if o := readProcess(r.procRoot, r.roots, int32(pid), buf[:]); o.Comm == comm {
		return o, true
	}
	return Process{PID: pid, Comm: comm}, true
}
