// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

// timeWaitTimer is the timer column ("tr") of a time-wait socket in
// /proc/net/tcp: full sockets show 0, 1, 2 or 4, an orphan too.
const timeWaitTimer = "03"

// maxSocketTable bounds each socket table read: a test's namespace holds
// a few hundred sockets at most, 150 bytes each.
const maxSocketTable = 16 << 20

// WaitTimeWait waits until the namespace holds a time-wait socket whose
// local port is port, or fails after limit. A socket closed first passes
// through FIN_WAIT1 until its peer's ACK of the FIN arrives, which the
// peer may delay (40 ms and more, longer under emulation).
func (n *Netns) WaitTimeWait(port uint16, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		found := false
		err := n.Do(func() error {
			var err error
			found, err = hasTimeWait(port)
			return err
		})
		if err != nil || found {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox: after %v, no time-wait socket on local port %d", limit, port)
		}
		time.Sleep(time.Millisecond)
	}
}

// hasTimeWait reports whether /proc/net/tcp or tcp6, read in the calling
// thread's namespace, lists a time-wait socket on local port port.
func hasTimeWait(port uint16) (bool, error) {
	hexPort := fmt.Sprintf(":%04X", port)
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := procfs.ReadFile(procfs.NetFile(name), nil, maxSocketTable)
		if errors.Is(err, os.ErrNotExist) {
			continue // no IPv6
		}
		if err != nil {
			return false, fmt.Errorf("sandbox: %w", err)
		}
		for _, line := range bytes.Split(b, []byte("\n"))[1:] {
			// sl local rem st tx:rx tr:when ...
			f := bytes.Fields(line)
			if len(f) < 6 || !bytes.HasSuffix(f[1], []byte(hexPort)) {
				continue
			}
			if tr, _, _ := bytes.Cut(f[5], []byte(":")); string(tr) == timeWaitTimer {
				return true, nil
			}
		}
	}
	return false, nil
}
