// SPDX-License-Identifier: Apache-2.0

// Package terminalexporter prints what the tcp_drop receiver reports for a
// person at a terminal, as the seed's terminal mode did: a line per log
// record, its time first, and a line of counts per collection. The debug
// exporter prints every attribute of every record and every data point;
// the filter and transform processors that could trim them do not build
// against this collector's version.
package terminalexporter
