// SPDX-License-Identifier: Apache-2.0

// Package otlpsink is the OTLP backend the tests, the bench and the soak
// export to: the collector's own otlpreceiver on a free port of 127.0.0.1
// (OTLP/HTTP or OTLP/gRPC, compressed or not, as a backend takes it),
// feeding the consumers the caller gives it. Sink keeps every export in
// consumertest sinks and reads records and metrics out of them.
package otlpsink

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Protocol is what the server speaks.
type Protocol int

const (
	HTTP Protocol = iota // OTLP/HTTP: an otlp_http exporter's endpoint is URL
	GRPC                 // OTLP/gRPC: an otlp exporter's endpoint is Addr
)

// Server is a running otlpreceiver.
type Server struct {
	Addr     string // 127.0.0.1:PORT
	URL      string // http://Addr
	shutdown func(context.Context) error
}

// Start serves OTLP over p until Close, handing what arrives to logs and
// metrics (either may be nil: that signal is then refused).
func Start(p Protocol, logs consumer.Logs, metrics consumer.Metrics) (*Server, error) {
	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlpreceiver.Config)
	// The defaults are templates for a user's config: the protocol asked
	// for is turned on, on a port the kernel chooses; the other stays off.
	started := "Starting HTTP server"
	if p == GRPC {
		cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "127.0.0.1:0"
		started = "Starting GRPC server"
	} else {
		cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	}

	// The receiver logs the address it listens on: the only way to learn
	// the port the kernel chose.
	core, logged := observer.New(zapcore.InfoLevel)
	tel := componenttest.NewNopTelemetrySettings()
	tel.Logger = zap.New(core)
	set := receiver.Settings{ID: component.NewID(factory.Type()), TelemetrySettings: tel, BuildInfo: component.NewDefaultBuildInfo()}

	ctx := context.Background()
	var rcv component.Component
	if logs != nil {
		r, err := factory.CreateLogs(ctx, set, cfg, logs)
		if err != nil {
			return nil, err
		}
		rcv = r
	}
	if metrics != nil {
		r, err := factory.CreateMetrics(ctx, set, cfg, metrics)
		if err != nil {
			return nil, err
		}
		rcv = r
	}
	if rcv == nil {
		return nil, errors.New("otlpsink: neither logs nor metrics to keep")
	}
	// Both signals share one receiver (the factory keys it by cfg): it
	// starts and stops once.
	if err := rcv.Start(ctx, componenttest.NewNopHost()); err != nil {
		return nil, err
	}
	s := &Server{shutdown: rcv.Shutdown}
	for _, e := range logged.FilterMessage(started).All() {
		s.Addr, _ = e.ContextMap()["endpoint"].(string)
	}
	if s.Addr == "" {
		_ = s.Close()
		return nil, fmt.Errorf("otlpsink: the receiver did not log %q with its address", started)
	}
	s.URL = "http://" + s.Addr
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.shutdown(context.Background()) }
