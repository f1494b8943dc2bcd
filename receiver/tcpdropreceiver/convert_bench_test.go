// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// benchEvents is one read batch of distinct drops, as a flood makes them.
func benchEvents() []probe.Event {
	events := make([]probe.Event, 1024) // one read of the ring
	base := fixtureEvents()[0]
	for i := range events {
		events[i] = base
		events[i].Src = netip.AddrPortFrom(base.Src.Addr(), uint16(1024+i))
	}
	return events
}

// BenchmarkConvertLogs: drop events to log records, per event: the
// engine's naming and (cached) owners, then the receiver's mapping.
func BenchmarkConvertLogs(b *testing.B) {
	namer := drops.NewNamer(fixture.LoadNames(b, notAvailable))
	conv := newLogConverter("bench", newResources(metadata.DefaultResourceAttributesConfig(), testHost))
	events := benchEvents()
	batch := make([]drops.Drop, 0, len(events))
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += len(events) {
		batch = batch[:0]
		for i := range events[:min(len(events), b.N-done)] {
			batch = append(batch, namer.Drop(&events[i], drops.FindOwner(testOwners, events[i].SocketInode, time.Now())))
		}
		conv.convert(batch, now)
		namer.Reset()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkConvertNamedLogs: drops the engine named to log records, per
// drop: the receiver's mapping alone.
func BenchmarkConvertNamedLogs(b *testing.B) {
	conv := newLogConverter("bench", newResources(metadata.DefaultResourceAttributesConfig(), testHost))
	batch := nameDrops(b, benchEvents())
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += len(batch) {
		conv.convert(batch[:min(len(batch), b.N-done)], now)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkConvertMetrics: a full counter map (16384 keys) to metrics.
func BenchmarkConvertMetrics(b *testing.B) {
	counts := probe.Counts{ByKey: make([]probe.Count, 16384)}
	for i := range counts.ByKey {
		counts.ByKey[i] = probe.Count{Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 1}
	}
	conv := newTestMetricsConverter(&testing.T{})
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		conv.convert(counts, nil, now)
	}
}
