// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// envChurnChild makes the test binary a short-lived churn process (see
// TestMain): it makes that many connects to churnPort on 127.0.0.1 in the
// network namespace it was started in, prints each socket's inode on a line
// of its own, and exits.
const envChurnChild = "TCPDROP_PROBE_CHURN_CHILD"

func TestMain(m *testing.M) {
	if n := os.Getenv(envChurnChild); n != "" {
		os.Exit(churnChild(n))
	}
	os.Exit(m.Run())
}

// churnChild is one churn process: each connect's SYN is sent, and dropped
// by the namespace's output rule, before connect returns, so every drop is
// made (and counted, or not) before the process exits.
func churnChild(count string) int {
	n, err := strconv.Atoi(count)
	if err != nil {
		fmt.Fprintln(os.Stderr, "churn child:", err)
		return 2
	}
	sa := &unix.SockaddrInet4{Port: churnPort, Addr: [4]byte{127, 0, 0, 1}}
	out := make([]byte, 0, 24*n)
	for range n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			fmt.Fprintln(os.Stderr, "churn child: socket:", err)
			return 1
		}
		if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
			fmt.Fprintln(os.Stderr, "churn child: connect:", err)
			return 1
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			fmt.Fprintln(os.Stderr, "churn child: fstat:", err)
			return 1
		}
		out = strconv.AppendUint(out, st.Ino, 10)
		out = append(out, '\n')
		_ = unix.Close(fd)
	}
	if _, err := os.Stdout.Write(out); err != nil {
		return 1
	}
	return 0
}
