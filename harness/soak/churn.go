// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/sandbox"
)

// The ports of each namespace (every namespace is new, so they are free).
const (
	firewalledPort = 8080 // the server listens; an input rule drops every SYN to it
	backlogOnePort = 8081 // the server listens with a backlog of 1 and never accepts: overflows
	outputPort     = 9090 // an output rule drops the clients' SYNs as they leave
	closedPort     = 9091 // nothing listens: refused (NO_SOCKET)
)

// churn keeps a few namespaces alive, a new one every while, each for its
// lifetime, with a server process in each, and runs short-lived client
// processes into them one after the other, which make drops of every kind:
// the server's (firewalled SYNs to its listener, overflows of its queue),
// the clients' own (SYNs dropped as they leave), and no one's (a closed
// port). A namespace, its server and its sockets are gone at the end of its
// lifetime (longer than a collection interval, so that the server is still
// there to be named when its drops are counted).
type churn struct {
	self            string // this binary, run as the server and the clients (see runRole)
	clientsPerSec   int
	every, lifetime time.Duration

	live                  []*liveNamespace
	namespaces, processes atomic.Int64
	drops                 atomic.Uint64 // by the rules' counters, and the refused connects
}

// liveNamespace is one of the churn's namespaces.
type liveNamespace struct {
	ns      *sandbox.Netns
	rules   []*sandbox.NftRule
	stop    func() // ends the server
	born    time.Time
	clients uint64
}

// run churns until ctx ends, then removes what is left.
func (c *churn) run(ctx context.Context) (err error) {
	defer func() { err = errors.Join(err, c.retire(time.Now().Add(time.Hour))) }()
	tick := time.NewTicker(time.Second / time.Duration(c.clientsPerSec))
	defer tick.Stop()
	var lastBorn time.Time
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if now := time.Now(); now.Sub(lastBorn) >= c.every {
			lastBorn = now
			if err := c.retire(now); err != nil {
				return err
			}
			if err := c.newNamespace(); err != nil {
				return err
			}
		}
		l := c.live[n%len(c.live)]
		if err := c.client(l.ns); err != nil {
			return err
		}
		l.clients++
	}
}

// newNamespace makes a namespace with its rules and its server.
func (c *churn) newNamespace() error {
	ns, err := sandbox.New()
	if err != nil {
		return err
	}
	l := &liveNamespace{ns: ns, born: time.Now()}
	in, err := ns.DropTCPPort(firewalledPort)
	if err == nil {
		l.rules = append(l.rules, in)
		var out *sandbox.NftRule
		out, err = ns.DropTCPPortOutput(outputPort)
		l.rules = append(l.rules, out)
	}
	if err == nil {
		l.stop, err = c.startServer(ns)
	}
	if err != nil {
		_ = ns.Close()
		return err
	}
	c.namespaces.Add(1)
	c.live = append(c.live, l)
	return nil
}

// retire removes the namespaces that have lived their lifetime by now,
// counting their drops.
func (c *churn) retire(now time.Time) error {
	var errs []error
	kept := c.live[:0]
	for _, l := range c.live {
		if now.Sub(l.born) < c.lifetime {
			kept = append(kept, l)
			continue
		}
		for _, r := range l.rules {
			n, err := r.Packets()
			errs = append(errs, err)
			c.drops.Add(n)
		}
		c.drops.Add(l.clients) // one refused connect each
		l.stop()
		errs = append(errs, l.ns.Close())
	}
	clear(c.live[len(kept):])
	c.live = kept
	return errors.Join(errs...)
}

// command is this binary in a role.
func (c *churn) command(role string) *exec.Cmd {
	cmd := exec.Command(c.self)
	cmd.Env = append(os.Environ(), envRole+"="+role, "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	return cmd
}

// startServer starts the server in ns and waits until it listens; stop
// ends it.
func (c *churn) startServer(ns *sandbox.Netns) (stop func(), err error) {
	cmd := c.command(roleServer)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// Started from a thread inside ns, the process is born in it.
	if err := ns.Do(cmd.Start); err != nil {
		return nil, fmt.Errorf("starting a server: %w", err)
	}
	c.processes.Add(1)
	stop = func() { _ = stdin.Close(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "listening" {
		stop()
		if err != nil {
			return nil, fmt.Errorf("the server said %q: %w", line, err)
		}
		return nil, fmt.Errorf("the server said %q", line)
	}
	return stop, nil
}

// client runs one client process in ns to its end.
func (c *churn) client(ns *sandbox.Netns) error {
	cmd := c.command(roleClient)
	if err := ns.Do(cmd.Run); err != nil {
		return fmt.Errorf("a client: %w", err)
	}
	c.processes.Add(1)
	return nil
}

// summary says what the churn made.
func (c *churn) summary() string {
	return fmt.Sprintf("churn: %d network namespaces (one every %v, each for %v, with a server), %d processes, %d drops made (firewall rules' counters and refused connects; overflows come on top)",
		c.namespaces.Load(), c.every, c.lifetime, c.processes.Load(), c.drops.Load())
}
