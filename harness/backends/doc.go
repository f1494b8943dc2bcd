// SPDX-License-Identifier: Apache-2.0

// Package backends runs the real backends tcp_drop's tests send drops to,
// each as a process of its own on a free loopback port with a temporary
// directory of its own: Prometheus 3, with its OTLP receiver, and
// VictoriaLogs. It waits until each is ready, queries it through its own
// HTTP API (PromQL, alerts; LogsQL) and stops it, checking that nothing it
// started is left running.
//
// The binaries are those `make backends` installs at the versions the
// Makefile pins; `make test-backends` names them in TCPDROP_PROMETHEUS and
// TCPDROP_VICTORIALOGS (FromEnv).
package backends
