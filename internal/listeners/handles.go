// SPDX-License-Identifier: Apache-2.0

package listeners

import "golang.org/x/sys/unix"

// handleSet is the namespace handles a Watcher keeps open between Polls,
// so that a namespace is entered once, within a budget of descriptors.
type handleSet struct {
	open map[uint32]*nsHandle // by namespace inode
	fds  map[int]bool         // their descriptors (isFD); nil until asked for
	max  int                  // handles kept open at most; past it a namespace is entered at each read
}

func newHandleSet() handleSet {
	return handleSet{open: map[uint32]*nsHandle{}, max: handleBudget()}
}

// handleBudget is how many namespace handles (three descriptors each) a
// Watcher keeps open: a quarter of the descriptor limit, at most
// maxNamespaces.
func handleBudget() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return int(min(lim.Cur/12, maxNamespaces))
}

// get returns the handle of namespace ino, opened through path if it is
// not open yet (see openHandle for own). keep is false when the budget is
// spent: the caller closes the handle after its read.
func (hs *handleSet) get(ino uint32, path string, own bool) (h *nsHandle, keep bool, err error) {
	if h := hs.open[ino]; h != nil {
		return h, true, nil
	}
	if h, err = openHandle(path, ino, own); err != nil {
		return nil, false, err
	}
	if len(hs.open) >= hs.max {
		return h, false, nil
	}
	hs.open[ino] = h
	hs.fds = nil
	return h, true, nil
}

// isFD tells whether fd is one of the handles' descriptors: a scan of this
// process's descriptors for namespaces skips them, or the Watcher would
// find its own handles and keep their namespaces alive.
func (hs *handleSet) isFD(fd int) bool {
	if hs.fds == nil {
		hs.fds = make(map[int]bool, 3*len(hs.open))
		for _, h := range hs.open {
			hs.fds[h.dev], hs.fds[h.netstat], hs.fds[h.diag.fd] = true, true, true
		}
	}
	return hs.fds[fd]
}

// closeUndiscovered closes the handles of the namespaces not discovered:
// open, a handle keeps its namespace alive.
func (hs *handleSet) closeUndiscovered(discovered map[uint32]string) {
	for ino, h := range hs.open {
		if _, ok := discovered[ino]; !ok {
			h.close()
			delete(hs.open, ino)
			hs.fds = nil
		}
	}
}

// closeAll closes every handle.
func (hs *handleSet) closeAll() {
	for ino, h := range hs.open {
		h.close()
		delete(hs.open, ino)
	}
	hs.fds = nil
}
