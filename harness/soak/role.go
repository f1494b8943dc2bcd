// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// envRole makes this binary one of the churn's processes, in the network
// namespace it was born in.
const (
	envRole    = "TCPDROP_SOAK_ROLE"
	roleServer = "server"
	roleClient = "client"
)

func runRole(role string) int {
	var err error
	switch role {
	case roleServer:
		err = server()
	case roleClient:
		err = client()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak %s: %v\n", role, err)
		return 1
	}
	return 0
}

var loopback = [4]byte{127, 0, 0, 1}

// server listens on the firewalled port and, with a backlog of 1, on the
// overflowing one, says "listening" and holds both until its stdin closes
// (a minute at most: it never outlives the soak).
func server() error {
	for _, l := range []struct{ port, backlog int }{{firewalledPort, 16}, {backlogOnePort, 1}} {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: l.port, Addr: loopback}); err != nil {
			return err
		}
		if err := unix.Listen(fd, l.backlog); err != nil {
			return err
		}
	}
	fmt.Println("listening")
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
	}
	return nil
}

// client makes one connect to each of the server's ports, two whose SYNs
// the output rule drops, and one refused by the closed port, then exits.
func client() error {
	// The sockets stay open until the client ends: their SYNs are the drops.
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, port := range []int{firewalledPort, backlogOnePort, outputPort, outputPort} {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
		if err != nil {
			return err
		}
		fds = append(fds, fd)
		if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: loopback}); err != nil && !errors.Is(err, unix.EINPROGRESS) {
			return fmt.Errorf("connect to port %d: %w", port, err)
		}
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: closedPort, Addr: loopback})
	if err == nil {
		return fmt.Errorf("connect to the closed port %d succeeded, want ECONNREFUSED", closedPort)
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		return fmt.Errorf("connect to the closed port %d: %w, want ECONNREFUSED", closedPort, err)
	}
	return nil
}
