// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/tcpdrop/tcpdrop/internal/drops"
)

// Attributes of listen-overflow records, besides the drop records' own.
const (
	attrLocalAddress = "network.local.address"
	attrLocalPort    = "network.local.port"
	attrOverflows    = "tcp_drop.listen.overflows"
	attrListenDrops  = "tcp_drop.listen.drops"
	attrQueueSize    = "tcp_drop.listen.queue.size"
	attrQueueLimit   = "tcp_drop.listen.queue.limit"
	attrEstimated    = "tcp_drop.listen.estimated"
)

// overflowConverter turns listen-queue overflows into log records, one per
// listener and poll, under its owner's Resource.
type overflowConverter struct {
	logs *logConverter // for the Resources, the scope and the address strings
}

func (c overflowConverter) convert(reports []drops.Overflow, now time.Time) plog.Logs {
	c.logs.begin()
	ts := pcommon.NewTimestampFromTime(now)
	for i := range reports {
		c.record(&reports[i], c.logs.recordsOf(reports[i].Owner).AppendEmpty(), ts)
	}
	return c.logs.logs
}

func (c overflowConverter) record(o *drops.Overflow, lr plog.LogRecord, ts pcommon.Timestamp) {
	lr.SetTimestamp(ts)
	lr.SetObservedTimestamp(ts)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.Body().SetStr(overflowBody(o))

	attrs := lr.Attributes()
	attrs.PutStr(attrOwner, string(o.Owner.Status))
	if o.Inode != 0 {
		attrs.PutInt(attrSocketInode, int64(o.Inode))
	}
	attrs.PutStr(attrReason, listenOverflowReason)
	attrs.PutInt(attrOverflows, int64(o.Overflows))
	attrs.PutInt(attrListenDrops, int64(o.ListenDrops))
	if o.Estimated {
		attrs.PutBool(attrEstimated, true)
	}
	attrs.PutStr(attrTransport, "tcp")
	if o.Addr.IsValid() {
		attrs.PutStr(attrLocalAddress, c.logs.addr(o.Addr.Addr().Unmap()))
		attrs.PutInt(attrLocalPort, int64(o.Addr.Port()))
		attrs.PutInt(attrQueueSize, int64(o.Backlog))
		attrs.PutInt(attrQueueLimit, int64(o.MaxBacklog))
	}
	attrs.PutInt(attrNetns, int64(o.Netns))
}

// overflowBody is the line a person reads:
// Listen overflow | PID: 1234 (server) | Listener: 127.0.0.1:8080 | Refused: 5 | Accept queue: 1/1
func overflowBody(o *drops.Overflow) string {
	b := append([]byte(nil), "Listen overflow | PID: "...)
	b = appendOwner(b, o.Owner)
	b = append(b, " | Listener: "...)
	switch {
	case o.Addr.IsValid() && o.Closed:
		b = append(o.Addr.AppendTo(b), " (closed)"...)
	case o.Addr.IsValid():
		b = o.Addr.AppendTo(b)
	default:
		b = append(b, "closed"...)
	}
	b = append(b, " | Refused: "...)
	b = strconv.AppendUint(b, o.Overflows, 10)
	if o.Estimated {
		b = append(b, " (estimated)"...)
	}
	if o.Addr.IsValid() && !o.Closed {
		b = append(b, " | Accept queue: "...)
		b = strconv.AppendUint(b, uint64(o.Backlog), 10)
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(o.MaxBacklog), 10)
	}
	return string(b)
}
