// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// The servers the scenario's drops belong to, by their process names.
const (
	webName = "web-frontend" // accepts slowly and closes unread: its queue overflows under bursts, and it resets
	apiName = "api-gateway"  // behind an nft rule that drops SYNs to it
)

// scenario makes, for d, drops of a few kinds in a network namespace of
// its own, every second, so that each panel has something to show:
//   - connects to a closed port, at a rate that swells and ebbs (NO_SOCKET,
//     owned by no process);
//   - SYNs an nft rule drops on their way to api-gateway, a few a second and
//     many during an "incident" in the middle (the rule's reason, in
//     nft_do_chain, owned by api-gateway);
//   - every 40s a burst of 12 to 32 connects to web-frontend, which has a
//     backlog of 4 and accepts one every 1.5s: listen overflows, a full
//     queue. The connects that got in send a request, which web-frontend
//     closes unread: a reset each (TCP_ABORT_ON_CLOSE, owned by it), beside
//     the closed port's resets (NO_SOCKET, no owner).
func scenario(ctx context.Context, dir string, d time.Duration) (err error) {
	ns, err := sandbox.New()
	if err != nil {
		return err
	}
	defer ns.Close()

	web, webAddr, err := listenAs(ns, dir, webName, roleSlow, 4)
	if err != nil {
		return err
	}
	defer web.stop()
	api, apiAddr, err := listenAs(ns, dir, apiName, roleIdle, 64)
	if err != nil {
		return err
	}
	defer api.stop()
	rule, err := ns.DropTCPPort(apiAddr.Port())
	if err != nil {
		return err
	}
	// The collector names a listener's owner once it has polled it.
	time.Sleep(3 * time.Second)
	return makeDrops(ctx, ns, webAddr, apiAddr, rule, d)
}

// makeDrops makes the scenario's drops for d, a second at a time, and
// waits for its bursts before it returns: they use the namespace.
func makeDrops(ctx context.Context, ns *sandbox.Netns, webAddr, apiAddr netip.AddrPort, rule *sandbox.NftRule, d time.Duration) (err error) {
	seconds := int(d / time.Second)
	incident := [2]int{seconds * 35 / 100, seconds * 60 / 100}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	bursts := make(chan error, seconds/40+1)
	started := 0
	defer func() {
		errs := []error{err}
		for range started {
			errs = append(errs, <-bursts)
		}
		err = errors.Join(errs...)
	}()
	for i := 0; i < seconds; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		incidentNow := i >= incident[0] && i < incident[1]
		if err := steadyDrops(ns, apiAddr, i, incidentNow); err != nil {
			return err
		}
		if i%40 == 10 {
			size := 12 + 10*(started%3)
			go func() { bursts <- burst(ns, webAddr, size, 3*time.Second) }()
			started++
		}
		if i%30 == 0 {
			dropped, _ := rule.Packets()
			log.Printf("%ds of %ds: %d SYNs to %s firewalled so far", i, seconds, dropped, apiName)
		}
	}
	return nil
}

// steadyDrops makes second i's connects to a closed port, on a swell of
// 90 s, and its SYNs to the firewalled api, many more in the incident.
func steadyDrops(ns *sandbox.Netns, apiAddr netip.AddrPort, i int, incident bool) error {
	closed := netip.MustParseAddrPort("127.0.0.1:9")
	n := 4 + int(math.Round(3*math.Sin(2*math.Pi*float64(i)/90)))
	if err := ns.ConnectRefused(closed, n); err != nil {
		return err
	}
	k := 2
	if incident {
		k = 12
	}
	return ns.ConnectTimeout(apiAddr, k, 50*time.Millisecond)
}

// listenAs makes a listening socket in ns and hands it to a child process
// named name, which then owns it alone.
func listenAs(ns *sandbox.Netns, dir, name, role string, backlog int) (*owner, netip.AddrPort, error) {
	fd, err := ns.Listen(netip.MustParseAddrPort("127.0.0.1:0"), backlog)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	addr, err := sandbox.LocalAddr(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, netip.AddrPort{}, err
	}
	o, err := startOwner(dir, name, role, fd) // closes fd here
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(os.Stderr, "%s (pid %d) listens on %v\n", name, o.cmd.Process.Pid, addr)
	return o, addr, nil
}

// request is what a burst's connects send, and web-frontend never reads.
var request = []byte("GET / HTTP/1.1\r\nHost: web-frontend\r\n\r\n")

// burst starts n connects to addr at once, sends a request on each that
// got in, and closes them after hold.
func burst(ns *sandbox.Netns, addr netip.AddrPort, n int, hold time.Duration) error {
	fds, err := ns.StartConnects(addr, n)
	if err != nil {
		return err
	}
	// On loopback a handshake takes microseconds: by then those the
	// listener took are connected, the others' SYNs dropped (EAGAIN here).
	time.Sleep(100 * time.Millisecond)
	for _, fd := range fds {
		_, _ = unix.Write(fd, request)
	}
	time.Sleep(hold)
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
	return nil
}
