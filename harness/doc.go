// SPDX-License-Identifier: Apache-2.0

// Package harness holds what the tests, benchmarks and tools of tcp_drop
// use and the collector does not, each in a package of its own:
//
//	harness/roottest  skips (or, in CI, fails) a test that lacks root
//	harness/sandbox   anonymous network namespaces, and drops made in them
//	harness/dropgen   SYN floods of a known size at a known rate
//	harness/kernels   make test-kernels: every package's tests on other kernels, in qemu
//	harness/reasons   make reasons: the drop and reset reason names of those kernels, from their BTF
//	harness/btftest   kernel BTF made of given types, for unit tests of BTF readers
//	harness/backends  real Prometheus and VictoriaLogs servers: start, query, stop
//	harness/collector the collector for tests: built once (make build), run with a config, SIGTERM
//	harness/otlpsink  the OTLP backend tests, the bench and the soak export to (core's otlpreceiver)
//	harness/fixture   drop reasons and kernel symbols from committed files, for golden tests
//	harness/testreport  make test's summary: go test's output, then every skip with its reason
//	harness/testenv.sh  make test's setup: installs and starts what the tests need, says what it cannot
//	harness/grafana   the Grafana dashboard's panels and queries, and its vmui rendering
//	harness/dashpicture  make dashboard-picture: README's picture of the dashboard on real data
//	harness/hostload  a busy host (namespaces, listeners, sockets, processes) and the engine's cost on it
//	harness/ociimage  a multi-architecture image of files alone as an OCI archive: write, read back, run
//	harness/image     make image: the collector's image for amd64 and arm64 under one tag
//
// The product (receiver/..., internal/...) never imports harness/ outside
// its _test.go files, and no command imports the testing package:
// layering_test.go checks both against `go list`.
package harness
