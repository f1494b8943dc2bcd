// SPDX-License-Identifier: Apache-2.0

package owners

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// envHolder makes the test binary act as a process holding that many TCP
// sockets (see TestMain): it prints their first and last inode and waits
// for stdin to close.
const envHolder = "TCPDROP_OWNERS_TEST_HOLD"

// holdSockets opens n TCP sockets (unbound: a socket file like any other to
// the resolver) and keeps them until stdin closes, or at most 10 minutes.
func holdSockets(n int) int {
	first, last := uint64(0), uint64(0)
	for i := range n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		if i == 0 {
			first = st.Ino
		}
		last = st.Ino
	}
	fmt.Println(first, last)
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
	}
	return 0
}

// holder is a child process holding sockets.
type holder struct {
	pid         int
	first, last uint64 // inodes of its first and last socket
}

// startHolders starts procs children of this test binary that hold sockets
// TCP sockets between them, and stops them at the end of the test.
func startHolders(tb testing.TB, procs, sockets int) []holder {
	tb.Helper()
	per := sockets / procs
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(per+64) {
		lim.Cur = max(lim.Cur, uint64(per+64))
		lim.Max = max(lim.Max, lim.Cur)
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			tb.Fatalf("raising the descriptor limit to %d: %v", lim.Cur, err)
		}
	}
	hs := make([]holder, procs)
	for i := range hs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envHolder+"="+strconv.Itoa(per))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			tb.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if _, serr := fmt.Sscan(line, &hs[i].first, &hs[i].last); err != nil || serr != nil {
			tb.Fatalf("holder %d: %q %v %v", i, line, err, serr)
		}
		hs[i].pid = cmd.Process.Pid
	}
	return hs
}
