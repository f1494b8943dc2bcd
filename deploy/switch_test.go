// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the exporters compress by default

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// switchListener is a backend's listening socket that can stop answering:
// while stalled it accepts connections, reads what they send and never
// writes a byte back; otherwise it hands them to the server behind it.
// Switching closes every connection it handed out, so the client
// reconnects and finds the new behaviour.
type switchListener struct {
	net.Listener
	ready chan net.Conn

	mu      sync.Mutex
	stalled bool
	conns   map[net.Conn]bool
}

func listenSwitch(t *testing.T, stalled bool) *switchListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &switchListener{Listener: l, ready: make(chan net.Conn), stalled: stalled, conns: map[net.Conn]bool{}}
	go s.acceptLoop()
	t.Cleanup(func() {
		l.Close()
		s.Stall(true) // closes every connection
	})
	return s
}

func (s *switchListener) acceptLoop() {
	defer close(s.ready)
	for {
		c, err := s.Listener.Accept()
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
		s.ready <- c
	}
}

// Accept is what the server behind it sees: only connections made while
// it answers.
func (s *switchListener) Accept() (net.Conn, error) {
	c, ok := <-s.ready
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}

// Close closes the socket: the server behind it is done.
func (s *switchListener) Close() error { return s.Listener.Close() }

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

// serveGRPCBackend serves OTLP/gRPC on l until the test ends, into b.
func serveGRPCBackend(t *testing.T, l net.Listener, b *backend) {
	srv := grpc.NewServer()
	plogotlp.RegisterGRPCServer(srv, &grpcLogs{b: b})
	pmetricotlp.RegisterGRPCServer(srv, &grpcMetrics{b: b})
	go func() { _ = srv.Serve(l) }() // returns when Stop closes l
	t.Cleanup(srv.Stop)
}

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	b *backend
}

func (g grpcLogs) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	g.b.addLogs(req.Logs())
	return plogotlp.NewExportResponse(), nil
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	b *backend
}

func (g grpcMetrics) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	g.b.addMetrics(req.Metrics())
	return pmetricotlp.NewExportResponse(), nil
}
