// SPDX-License-Identifier: Apache-2.0

// Package librarybench measures internal/procfs and
// github.com/prometheus/procfs (node_exporter's /proc reader) side by side
// on the paths tcp_drop runs often: the owners' descriptor scan, the
// listeners' netstat read per namespace, and the mount table. It is a
// module of its own so that the library is no dependency of tcp_drop's:
//
//	cd internal/procfs/librarybench && go test -run - -bench . -count 5
package librarybench
