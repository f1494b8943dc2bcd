// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// floorObject is bpf/bench/tcp_check_floor.c as bpf2go builds it for
// internal/probe's benchmarks (a test file there, so read from the
// repository, which the bench runs from; -floor says where else): a
// program that only tells TCP from the rest, the least any monitor of TCP
// drops on kfree_skb must do.
const floorObject = "internal/probe/tcpcheckfloor_bpfel_test.o"

// runFloor floods with the TCP-check floor attached, and checks that it ran.
func (rn *runner) runFloor(ctx context.Context, r *row) error {
	r.Attached, r.Floor = true, true
	spec, err := ebpf.LoadCollectionSpec(rn.opts.floor)
	if err != nil {
		return fmt.Errorf("the TCP-check floor (run from the repository's root, or give -floor): %w", err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return fmt.Errorf("loading the TCP-check floor: %w", err)
	}
	defer coll.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: coll.Programs["tcp_check_floor"]})
	if err != nil {
		return fmt.Errorf("attaching the TCP-check floor: %w", err)
	}
	fr, ferr := rn.flood(ctx, 0)
	l.Close()
	fillFlood(r, fr)
	if ferr != nil {
		return ferr
	}
	var seen uint64
	if v := coll.Variables["tcp_packets"]; v == nil || v.Get(&seen) != nil || seen == 0 {
		return errors.New("the TCP-check floor saw no TCP packet during the flood")
	}
	r.MetricTotal = seen
	return nil
}
