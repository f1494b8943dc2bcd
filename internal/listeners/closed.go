// SPDX-License-Identifier: Apache-2.0

package listeners

import "fmt"

// takeClosed asks the ClosedSource for the listeners that stopped
// listening since the last Poll, by namespace.
func (w *Watcher) takeClosed() (map[uint32][]Listener, error) {
	if w.closed == nil {
		return nil, nil
	}
	ls, err := w.closed()
	if err != nil {
		return nil, fmt.Errorf("listeners: the listeners that stopped: %w", err)
	}
	byNetns := map[uint32][]Listener{}
	for _, l := range ls {
		byNetns[l.Netns] = append(byNetns[l.Netns], l)
	}
	return byNetns, nil
}

// keepListening adds to paths the namespaces no longer discovered (their
// last process exited, or the scan for descriptors that hold them has not
// come round) that had listeners at their last dump: a namespace with a
// listening socket is alive, and the Watcher's handle still reads it, so
// that the overflows of a server killed right after its overload are
// counted when it is gone. It returns those namespaces: each Poll dumps
// them, and the first dump without listeners lets them go.
func (w *Watcher) keepListening(paths map[uint32]string) map[uint32]bool {
	var kept map[uint32]bool
	for ino, st := range w.ns {
		if _, ok := paths[ino]; ok || len(st.listeners) == 0 {
			continue
		}
		if h := w.handles.open[ino]; h != nil && h.cookie == st.cookie {
			if kept == nil {
				kept = map[uint32]bool{}
			}
			paths[ino], kept[ino] = "(held by the watcher)", true
		}
	}
	return kept
}
