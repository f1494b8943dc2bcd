// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"io"
	"net"
	"sync"
	"testing"
)

// switchListener is a backend's address that can stop answering: while
// stalled it accepts connections, reads what they send and never writes a
// byte back; otherwise it joins them to the backend behind it. Switching
// closes every connection it accepted, so the client reconnects and finds
// the new behaviour.
type switchListener struct {
	net.Listener
	backend string // the address it forwards to when answering

	mu      sync.Mutex
	stalled bool
	conns   map[net.Conn]bool // accepted, and their forwarding connections
}

func listenSwitch(t *testing.T, stalled bool, backend string) *switchListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &switchListener{Listener: l, backend: backend, stalled: stalled, conns: map[net.Conn]bool{}}
	go s.acceptLoop()
	t.Cleanup(func() {
		l.Close()
		s.Stall(true) // closes every connection
	})
	return s
}

func (s *switchListener) acceptLoop() {
	for {
		c, err := s.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		stalled := s.stalled
		s.mu.Unlock()
		if stalled {
			go func() { _, _ = io.Copy(io.Discard, c) }() // read and never answered
			continue
		}
		go s.forward(c)
	}
}

// forward joins c to a new connection to the backend until either ends.
func (s *switchListener) forward(c net.Conn) {
	b, err := net.Dial("tcp", s.backend)
	if err != nil {
		c.Close()
		return
	}
	s.mu.Lock()
	s.conns[b] = true
	s.mu.Unlock()
	// A copy ends when either side closes or fails; then both close.
	go func() {
		_, _ = io.Copy(b, c)
		b.Close()
	}()
	_, _ = io.Copy(c, b)
	c.Close()
}

// Stall makes the backend stop answering (true) or answer again (false).
func (s *switchListener) Stall(stalled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = stalled
	for c := range s.conns {
		c.Close()
	}
	clear(s.conns)
}
