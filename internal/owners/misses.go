// SPDX-License-Identifier: Apache-2.0

package owners

import "time"

// Backoff of a socket no scan found (its holder's descriptors are out of
// reach, like pid 1's without CAP_SYS_PTRACE, or it is in flight between
// processes, or closed): it is looked for again after firstRetry, then
// twice as long each time it is still not found, up to maxRetry. A lookup
// before then answers at once, without a scan: one such listener, asked
// for at every listen-queue poll, costs a scan per maxRetry, not per poll.
const (
	firstRetry = time.Second
	maxRetry   = time.Minute
	// Sockets remembered as not found: a full table is emptied (each of
	// them may then cost a scan again, within the scan budget). 64k
	// entries take about 3 MB.
	maxMisses = 1 << 16
)

// misses remembers the sockets that a scan started after they were known
// to exist did not find. Not safe for concurrent use: the Resolver's scanMu
// guards it.
type misses map[uint64]miss

type miss struct {
	retry time.Time     // a lookup from then on may scan again
	wait  time.Duration // how long the last backoff was
}

// add records that a scan ending at end did not find inode.
func (m misses) add(inode uint64, end time.Time) {
	wait := firstRetry
	if old, ok := m[inode]; ok {
		wait = min(2*old.wait, maxRetry)
	}
	if _, ok := m[inode]; !ok && len(m) >= maxMisses {
		clear(m)
	}
	m[inode] = miss{retry: end.Add(wait), wait: wait}
}

// prune forgets the sockets a scan found (known: the scan's sockets) and
// those nobody asked for during a whole maxRetry after their retry was due
// (most likely closed).
func (m misses) prune(known map[uint64]int32, now time.Time) {
	for ino, ms := range m {
		if _, ok := known[ino]; ok || now.Sub(ms.retry) > maxRetry {
			delete(m, ino)
		}
	}
}
