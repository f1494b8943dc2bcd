// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/owners"
	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
)

// Three owners: two processes of one container (web and its sidecar), one
// on the host; and sockets with no known owner.
var groupingOwners = fixtureOwners{
	1001: {PID: 11, Comm: "web", CgroupPath: serverPath, ContainerID: containerID, PodUID: podUID},
	1002: {PID: 12, Comm: "web", CgroupPath: serverPath, ContainerID: containerID, PodUID: podUID},
	1003: {PID: 13, Comm: "sshd", CgroupPath: "/system.slice/ssh.service"},
}

// groupingEvents: drops of each owner's socket, interleaved, and of
// sockets without one; by inode, how many.
func groupingEvents() ([]probe.Event, map[uint64]int) {
	want := map[uint64]int{1001: 3, 1002: 2, 1003: 1, 0: 2, unknownSocket: 1}
	order := []uint64{1001, 0, 1002, 1003, 1001, unknownSocket, 1002, 0, 1001}
	events := make([]probe.Event, len(order))
	for i, ino := range order {
		events[i] = probe.Event{Time: dropTime, SocketInode: ino, Reason: 12, HasReason: true, Location: inNfHookSlow,
			Src: netip.MustParseAddrPort("10.0.0.1:1234"), Dst: netip.MustParseAddrPort("10.0.0.2:80")}
	}
	return events, want
}

// resourceOf is a Resource's attributes but host.name, which every
// Resource has, for comparing.
func resourceOf(t *testing.T, res pcommon.Resource) map[string]any {
	t.Helper()
	m := res.Attributes().AsRaw()
	require.Equal(t, testHost, m[attrHost], "every Resource names the node")
	delete(m, attrHost)
	return m
}

func ownerResource(o owners.Process) map[string]any {
	m := map[string]any{attrPID: int64(o.PID), attrExecutable: o.Comm, attrCgroup: o.CgroupPath}
	if o.ContainerID != "" {
		m[attrContainer] = o.ContainerID
	}
	if o.PodUID != "" {
		m[attrPodUID] = o.PodUID
	}
	return m
}

// TestLogsOneResourcePerOwner: several owners in one batch give one
// Resource each, holding exactly that owner's records; those without a
// known owner share the Resource without process attributes.
func TestLogsOneResourcePerOwner(t *testing.T) {
	events, want := groupingEvents()
	namer := drops.NewNamer(fixture.LoadNames(t, notAvailable))
	batch := make([]drops.Drop, len(events))
	for i := range events {
		batch[i] = namer.Drop(&events[i], drops.FindOwner(groupingOwners, events[i].SocketInode, time.Now()))
	}
	logs := newLogConverter("1.2.3", newResources(metadata.DefaultResourceAttributesConfig(), testHost)).convert(batch, dropTime)

	require.Equal(t, 4, logs.ResourceLogs().Len(), "three owners and the Resource without one")
	seen := map[uint64]bool{} // owners' inodes, 0 for no owner
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		rl := logs.ResourceLogs().At(i)
		res := resourceOf(t, rl.Resource())
		records := rl.ScopeLogs().At(0).LogRecords()
		require.Equal(t, 1, rl.ScopeLogs().Len())
		require.Equal(t, metadata.ScopeName, rl.ScopeLogs().At(0).Scope().Name())
		if len(res) == 0 {
			require.Equal(t, want[0]+want[unknownSocket], records.Len(), "drops without a known owner")
			for j := 0; j < records.Len(); j++ {
				owner, _ := records.At(j).Attributes().Get(attrOwner)
				require.Contains(t, []string{ownerNone, ownerUnknown}, owner.Str())
			}
			require.False(t, seen[0], "one Resource without an owner")
			seen[0] = true
			continue
		}
		var ino uint64
		for k, o := range groupingOwners {
			if attrInt(res, attrPID) == int64(o.PID) {
				ino = k
				require.Equal(t, ownerResource(o), res)
			}
		}
		require.NotZero(t, ino, "a Resource of no owner: %v", res)
		require.Equal(t, want[ino], records.Len(), "the records of pid %d", groupingOwners[ino].PID)
		for j := 0; j < records.Len(); j++ {
			a := records.At(j).Attributes().AsRaw()
			require.Equal(t, int64(ino), attrInt(a, attrSocketInode), "a record under another owner's Resource")
			require.Equal(t, ownerProcess, a[attrOwner])
			require.NotContains(t, a, attrPID, "process attributes are the Resource's")
		}
		require.False(t, seen[ino], "one Resource per owner")
		seen[ino] = true
	}
}

// TestMetricsOneResourcePerOwner: each owner's tcp_drop.packets under its
// own Resource, the counts without owner with the receiver's other sums.
func TestMetricsOneResourcePerOwner(t *testing.T) {
	m := newTestMetrics(t, groupingOwners, metadata.NewDefaultMetricsBuilderConfig())
	counts := probe.Counts{ByKey: []probe.Count{
		{SocketInode: 1001, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: 5},
		{SocketInode: 1002, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: 7},
		{SocketInode: 1001, Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 1},
		{SocketInode: 1003, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: 2},
		{SocketInode: 0, Reason: 3, HasReason: true, Location: inTCPv4Rcv, Packets: 9},
	}}
	md := m.convert(counts, nil, dropTime.Add(time.Second))
	require.Equal(t, 4, md.ResourceMetrics().Len())
	got := map[int64]int64{} // packets by the Resource's pid (0: none)
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		res := resourceOf(t, rm.Resource())
		pid := attrInt(res, attrPID)
		metrics := rm.ScopeMetrics().At(0).Metrics()
		for j := 0; j < metrics.Len(); j++ {
			if pid != 0 {
				require.Equal(t, packetsName, metrics.At(j).Name(), "only tcp_drop.packets has an owner")
			}
		}
		total, _ := sumPoints(pmetricOf(rm), packetsName, func(dp pmetric.NumberDataPoint) bool {
			a := dp.Attributes().AsRaw()
			return (pid == 0) == (a[attrOwner] == ownerNone)
		})
		got[pid] += total
	}
	require.Equal(t, map[int64]int64{11: 6, 12: 7, 13: 2, 0: 9}, got)
}

// pmetricOf is one ResourceMetrics as a pmetric.Metrics of its own.
func pmetricOf(rm pmetric.ResourceMetrics) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm.CopyTo(md.ResourceMetrics().AppendEmpty())
	return md
}

// TestSwitchedOffResourceAttributesMerge: with process.pid switched off,
// the two processes of one container are one Resource and one series, their
// counts summed; with every owner attribute off, there is one Resource.
func TestSwitchedOffResourceAttributesMerge(t *testing.T) {
	counts := probe.Counts{ByKey: []probe.Count{
		{SocketInode: 1001, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: 5},
		{SocketInode: 1002, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: 7},
		{SocketInode: 1003, Reason: 12, HasReason: true, Location: inNfHookSlow, Packets: 2},
	}}
	cfg := metadata.NewDefaultMetricsBuilderConfig()
	cfg.ResourceAttributes.ProcessPid.Enabled = false
	md := newTestMetrics(t, groupingOwners, cfg).convert(counts, nil, dropTime)
	var resources []map[string]any
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		res := resourceOf(t, rm.Resource())
		require.NotContains(t, res, attrPID)
		if res[attrExecutable] == "web" {
			total, _ := sumPoints(pmetricOf(rm), packetsName, anyPoint)
			require.Equal(t, int64(12), total, "web's two processes, summed")
			require.Equal(t, 1, rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().Len(), "in one series")
		}
		resources = append(resources, res)
	}
	require.Len(t, resources, 3, "web, sshd and the Resource without an owner (the other sums)")

	for _, a := range []*metadata.ResourceAttributeConfig{&cfg.ResourceAttributes.ProcessExecutableName,
		&cfg.ResourceAttributes.ProcessLinuxCgroup, &cfg.ResourceAttributes.ContainerID, &cfg.ResourceAttributes.K8sPodUID} {
		a.Enabled = false
	}
	md = newTestMetrics(t, groupingOwners, cfg).convert(counts, nil, dropTime)
	require.Equal(t, 1, md.ResourceMetrics().Len(), "no owner attribute: one Resource")
	total, _ := sumPoints(md, packetsName, anyPoint)
	require.Equal(t, int64(14), total)

	// Logs: the same owners share a Resource.
	events, _ := groupingEvents()
	namer := drops.NewNamer(fixture.LoadNames(t, notAvailable))
	batch := make([]drops.Drop, len(events))
	for i := range events {
		batch[i] = namer.Drop(&events[i], drops.FindOwner(groupingOwners, events[i].SocketInode, time.Now()))
	}
	logs := newLogConverter("1.2.3", newResources(cfg.ResourceAttributes, testHost)).convert(batch, dropTime)
	require.Equal(t, 1, logs.ResourceLogs().Len())
	require.Equal(t, len(events), logs.LogRecordCount())
}
