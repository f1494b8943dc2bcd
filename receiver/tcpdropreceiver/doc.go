// Package tcpdropreceiver is the tcp_drop receiver: it reports the TCP
// packets the Linux kernel drops as OTLP log records, one per drop, and as
// exact cumulative metrics, from an eBPF program on the kfree_skb
// tracepoint (internal/probe).
package tcpdropreceiver

//go:generate sh -c "cd ../../tools && go tool mdatagen ../receiver/tcpdropreceiver/metadata.yaml"
