// SPDX-License-Identifier: Apache-2.0

package hostload

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// listenerAddrs are the 5 listeners made in every namespace.
var listenerAddrs = []netip.AddrPort{
	netip.MustParseAddrPort("0.0.0.0:8001"),
	netip.MustParseAddrPort("0.0.0.0:8002"),
	netip.MustParseAddrPort("0.0.0.0:8003"),
	netip.MustParseAddrPort("[::]:8004"),
	netip.MustParseAddrPort("[::]:8005"),
}

// dropPort is the port of the listener drops are made to, in the first
// namespace.
const dropPort = 8009

// holderJob is what one holder process makes and holds until its stdin
// closes.
type holderJob struct {
	Namespaces []string // paths of the namespaces to make listeners in
	SocketNS   string   // the namespace of the connections (and of the drop target)
	Sockets    int      // sockets to hold: Sockets/2 connections
	DropTarget bool     // listen on 127.0.0.1:dropPort in SocketNS
}

// holderReply is a holder's one line of answer.
type holderReply struct {
	Err string `json:",omitempty"`
}

// runHolder is the holder role: it reads its job from stdin, makes it,
// answers, and holds everything until stdin closes.
func runHolder() int {
	var job holderJob
	dec := json.NewDecoder(os.Stdin)
	err := dec.Decode(&job)
	if err == nil {
		err = hold(job)
	}
	var r holderReply
	if err != nil {
		r.Err = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err != nil {
		return 1
	}
	return 0
}

// hold makes job's sockets; they stay open for the life of the process.
func hold(job holderJob) error {
	need := uint64(len(job.Namespaces)*len(listenerAddrs) + job.Sockets + 256)
	lim := unix.Rlimit{Cur: need, Max: need}
	var cur unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &cur); err == nil && cur.Cur >= need {
		lim = cur
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("hostload: RLIMIT_NOFILE %d: %w", need, err)
	}
	for _, p := range job.Namespaces {
		ns, err := sandbox.Open(p)
		if err != nil {
			return err
		}
		for _, a := range listenerAddrs {
			if _, err := ns.Listen(a, 128); err != nil {
				ns.Close()
				return err
			}
		}
		ns.Close()
	}
	if job.Sockets == 0 && !job.DropTarget {
		return nil
	}
	ns, err := sandbox.Open(job.SocketNS)
	if err != nil {
		return err
	}
	defer ns.Close()
	if job.DropTarget {
		if _, err := ns.Listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), dropPort), 128); err != nil {
			return err
		}
	}
	if job.Sockets < 2 {
		return nil
	}
	return ns.Do(func() error { return connectPairs(job.Sockets / 2) })
}

// connectPairs makes n established loopback connections in the calling
// thread's namespace and keeps both ends open.
func connectPairs(n int) error {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("hostload: socket: %w", err)
	}
	defer unix.Close(ln)
	lo := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := unix.Bind(ln, lo); err != nil {
		return fmt.Errorf("hostload: bind: %w", err)
	}
	if err := unix.Listen(ln, 1024); err != nil {
		return fmt.Errorf("hostload: listen: %w", err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		return fmt.Errorf("hostload: getsockname: %w", err)
	}
	for i := range n {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("hostload: socket %d: %w", i, err)
		}
		if err := unix.Connect(c, sa); err != nil {
			return fmt.Errorf("hostload: connect %d: %w", i, err)
		}
		if _, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC); err != nil {
			return fmt.Errorf("hostload: accept %d: %w", i, err)
		}
	}
	return nil
}
