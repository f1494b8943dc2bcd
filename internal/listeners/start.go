// SPDX-License-Identifier: Apache-2.0

package listeners

import "sync"

// start is the moment overflows count from: the network namespaces that
// existed then, by inode (nil before MarkStart).
var start struct {
	mu       sync.Mutex
	existing map[uint32]bool
}

// MarkStart marks the start of counting for the Watchers made from now on:
// it notes every network namespace there is (as a Poll finds them). One
// created since counts its overflows from its creation, even if a Watcher
// first reads it later, while one that existed then counts from a
// Watcher's first read. The collector marks it when it creates the
// receiver, so that a server that starts and overflows in a new namespace
// while the collector loads its program is counted in full. Without a
// mark, a Watcher's first Poll is the start: every namespace it finds
// counts from then. (Namespace inodes can be reused: a namespace that
// existed at the mark, gone before the first Poll, whose inode a new one
// took, makes the new one count from the first Poll.)
func MarkStart() {
	d := newDiscovery("/proc") // a first find: every process, every descriptor
	paths := d.find(true, nil)
	d.close()
	existing := make(map[uint32]bool, len(paths))
	for ino := range paths {
		existing[ino] = true
	}
	start.mu.Lock()
	defer start.mu.Unlock()
	start.existing = existing
}

// markedStart is the namespaces of the last MarkStart (nil: none).
func markedStart() map[uint32]bool {
	start.mu.Lock()
	defer start.mu.Unlock()
	return start.existing
}

// createdSinceStart tells whether namespace ino, found by the first Poll,
// was created after the Watcher's start mark.
func (w *Watcher) createdSinceStart(ino uint32) bool {
	return w.existing != nil && !w.existing[ino]
}
