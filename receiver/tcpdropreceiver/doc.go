// SPDX-License-Identifier: Apache-2.0

// Package tcpdropreceiver is the tcp_drop receiver: it reports the TCP
// packets the Linux kernel drops as OTLP log records, one per drop, and as
// exact cumulative metrics, from an eBPF program on the kfree_skb
// tracepoint. The engine (internal/drops) does the work; this package is
// the configuration, the lifecycle and the mapping of the engine's values
// to pdata.
package tcpdropreceiver

//go:generate sh -c "cd ../../tools && go tool mdatagen ../receiver/tcpdropreceiver/metadata.yaml"
