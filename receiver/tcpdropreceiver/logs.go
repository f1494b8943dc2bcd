//go:build linux

package tcpdropreceiver

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// Log record attribute keys. Semantic conventions where they exist; the
// rest under the receiver's own prefix.
const (
	attrPID           = "process.pid"
	attrExecutable    = "process.executable.name"
	attrReason        = "tcp_drop.reason"
	attrFunction      = "tcp_drop.kernel_function"
	attrLocation      = "tcp_drop.location"
	attrTransport     = "network.transport"
	attrNetworkType   = "network.type"
	attrSrcAddress    = "source.address"
	attrSrcPort       = "source.port"
	attrDstAddress    = "destination.address"
	attrDstPort       = "destination.port"
	attrTCPFlags      = "tcp_drop.tcp_flags"
	attrInterfaceName = "network.interface.name"
	attrNetns         = "tcp_drop.netns.inode"
	attrOwner         = "tcp_drop.owner"
	attrCgroup        = "process.linux.cgroup"
	attrContainer     = "container.id"
	attrSocketInode   = "tcp_drop.socket.inode"
	attrContextPID    = "tcp_drop.context.pid"
	attrContextComm   = "tcp_drop.context.comm"
	attrKernelStack   = "tcp_drop.kernel_stack"
	logAttributeCount = 21
)

// logConverter turns drop events into log records. It keeps the strings it
// made for repeated values (process names), so it is not safe for
// concurrent use: the receiver has one per reading goroutine.
type logConverter struct {
	names   kernelNames
	owners  ownerLookup // nil: owners are not resolved
	version string      // the collector's, as the metrics' scope carries it
	comms   map[[16]byte]string
	addrs   map[netip.Addr]string
	line    []byte
}

// maxCached bounds the process-name and address caches against churn.
const maxCached = 4096

func newLogConverter(names kernelNames, owners ownerLookup, version string) *logConverter {
	return &logConverter{names: names, owners: owners, version: version, comms: map[[16]byte]string{}, addrs: map[netip.Addr]string{}}
}

// newRecords starts a plog.Logs with the receiver's scope, for n records.
func (c *logConverter) newRecords(n int) (plog.Logs, plog.LogRecordSlice) {
	logs := plog.NewLogs()
	scope := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	scope.Scope().SetName(metadata.ScopeName)
	scope.Scope().SetVersion(c.version)
	records := scope.LogRecords()
	records.EnsureCapacity(n)
	return logs, records
}

// convert makes one plog.Logs holding a record per event.
func (c *logConverter) convert(events []probe.Event, observed time.Time) plog.Logs {
	logs, records := c.newRecords(len(events))
	obs := pcommon.NewTimestampFromTime(observed)
	for i := range events {
		c.record(&events[i], records.AppendEmpty(), obs)
	}
	return logs
}

func (c *logConverter) record(e *probe.Event, lr plog.LogRecord, observed pcommon.Timestamp) {
	reason := c.names.reason(e.Reason, e.HasReason)
	location := c.names.location(e.Location)
	comm := c.comm(e.Comm)
	who := attribute(c.owners, e.SocketInode)

	lr.SetTimestamp(pcommon.NewTimestampFromTime(e.Time))
	lr.SetObservedTimestamp(observed)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr(c.body(e, who, comm, reason, location))

	attrs := lr.Attributes()
	attrs.EnsureCapacity(logAttributeCount)
	putOwner(attrs, who)
	if e.SocketInode != 0 {
		attrs.PutInt(attrSocketInode, int64(e.SocketInode))
	}
	attrs.PutInt(attrContextPID, int64(e.PID))
	attrs.PutStr(attrContextComm, comm)
	attrs.PutStr(attrReason, reason)
	attrs.PutStr(attrFunction, c.names.function(e.Location))
	attrs.PutStr(attrLocation, location)
	attrs.PutStr(attrTransport, "tcp")
	if e.IPVersion() == 4 {
		attrs.PutStr(attrNetworkType, "ipv4")
	} else {
		attrs.PutStr(attrNetworkType, "ipv6")
	}
	attrs.PutStr(attrSrcAddress, c.addr(e.Src.Addr()))
	attrs.PutInt(attrSrcPort, int64(e.Src.Port()))
	attrs.PutStr(attrDstAddress, c.addr(e.Dst.Addr()))
	attrs.PutInt(attrDstPort, int64(e.Dst.Port()))
	attrs.PutStr(attrTCPFlags, e.TCPFlags.String())
	if ifname := e.IfnameString(); ifname != "" {
		attrs.PutStr(attrInterfaceName, ifname)
	}
	attrs.PutInt(attrNetns, int64(e.NetnsInode))
	if stack := c.dropStack(e.KernelStack()); len(stack) > 0 {
		frames := attrs.PutEmptySlice(attrKernelStack)
		frames.EnsureCapacity(len(stack))
		for _, ip := range stack {
			frames.AppendEmpty().SetStr(c.names.location(ip))
		}
	}
}

// dropStack leaves out the frames above the drop: the tcp_drop program
// itself and the tracepoint's dispatch (bpf_prog_<tag>_tcpdrop_kfree,
// bpf_trace_run4, __bpf_trace_kfree_skb, as the kernel names them).
func (c *logConverter) dropStack(stack []uint64) []uint64 {
	for len(stack) > 0 {
		fn := c.names.function(stack[0])
		if !strings.HasPrefix(fn, "bpf_prog_") && !strings.HasPrefix(fn, "bpf_trace_run") && !strings.HasPrefix(fn, "__bpf_trace_") {
			break
		}
		stack = stack[1:]
	}
	return stack
}

// putOwner sets tcp_drop.owner and, when the owner is known, the process
// attributes: the owner's pid, name, cgroup and container.
func putOwner(attrs pcommon.Map, who attribution) {
	attrs.PutStr(attrOwner, who.status)
	if who.status != ownerProcess {
		return
	}
	attrs.PutInt(attrPID, int64(who.owner.PID))
	attrs.PutStr(attrExecutable, who.owner.Comm)
	if who.owner.CgroupPath != "" {
		attrs.PutStr(attrCgroup, who.owner.CgroupPath)
	}
	if who.owner.ContainerID != "" {
		attrs.PutStr(attrContainer, who.owner.ContainerID)
	}
}

// appendOwner writes "1234 (nginx)", or what is known instead.
func appendOwner(b []byte, who attribution) []byte {
	switch who.status {
	case ownerProcess:
		b = strconv.AppendInt(b, int64(who.owner.PID), 10)
		b = append(b, " ("...)
		b = append(b, who.owner.Comm...)
		return append(b, ')')
	case ownerNone:
		return append(b, "- (no owner)"...)
	default:
		return append(b, "? (owner unknown)"...)
	}
}

// body is the line a person reads, in the spirit of the seed's, with the
// socket's owner first and the task that was on the CPU last:
// Drop | PID: 1234 (server) | Reason: NETFILTER_DROP | Function: nf_hook_slow+0x9c | 127.0.0.1:40000 -> 127.0.0.1:8080 [SYN] | CPU: 5678 (curl)
func (c *logConverter) body(e *probe.Event, who attribution, comm, reason, location string) string {
	b := append(c.line[:0], "Drop | PID: "...)
	b = appendOwner(b, who)
	b = append(b, " | Reason: "...)
	b = append(b, reason...)
	b = append(b, " | Function: "...)
	b = append(b, location...)
	b = append(b, " | "...)
	b = e.Src.AppendTo(b)
	b = append(b, " -> "...)
	b = e.Dst.AppendTo(b)
	b = append(b, " ["...)
	b = append(b, e.TCPFlags.String()...)
	b = append(b, "] | CPU: "...)
	b = strconv.AppendUint(b, uint64(e.PID), 10)
	b = append(b, " ("...)
	b = append(b, comm...)
	b = append(b, ')')
	c.line = b
	return string(b)
}

// comm returns the process name as a string, made once per name.
func (c *logConverter) comm(raw [16]byte) string {
	if s, ok := c.comms[raw]; ok {
		return s
	}
	if len(c.comms) >= maxCached {
		clear(c.comms)
	}
	s := probe.CommString(raw)
	c.comms[raw] = s
	return s
}

// addr returns an address as a string, made once per address: a flood
// repeats a few addresses millions of times.
func (c *logConverter) addr(a netip.Addr) string {
	if s, ok := c.addrs[a]; ok {
		return s
	}
	if len(c.addrs) >= maxCached {
		clear(c.addrs)
	}
	s := a.String()
	c.addrs[a] = s
	return s
}
