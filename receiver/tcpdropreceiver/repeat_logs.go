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

// attrRepeats is the summary record's count: the drops of its key in its
// interval that became no record of their own (log_records_per_key).
const attrRepeats = "tcp_drop.repeats"

// repeatConverter turns a collection's repeats into summary records, one
// per count key, under the owner's Resource: what a flood's records say
// about the drops they leave out.
type repeatConverter struct {
	logs *logConverter // for the Resources and the scope
}

func (c repeatConverter) convert(reps []drops.Repeat, observed time.Time) plog.Logs {
	c.logs.begin()
	obs := pcommon.NewTimestampFromTime(observed)
	for i := range reps {
		c.record(&reps[i], c.logs.recordsOf(reps[i].Owner).AppendEmpty(), obs)
	}
	return c.logs.logs
}

func (c repeatConverter) record(r *drops.Repeat, lr plog.LogRecord, observed pcommon.Timestamp) {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(r.Until))
	lr.SetObservedTimestamp(observed)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr(repeatBody(r))

	attrs := lr.Attributes()
	attrs.PutInt(attrRepeats, int64(r.Repeats))
	attrs.PutStr(attrKind, r.Kind.String())
	attrs.PutStr(attrOwner, string(r.Owner.Status))
	if r.SocketInode != 0 {
		attrs.PutInt(attrSocketInode, int64(r.SocketInode))
	}
	attrs.PutStr(attrReason, r.Reason)
	if wordsOf(r.Kind).located {
		attrs.PutStr(attrFunction, r.Function)
		attrs.PutStr(attrLocation, r.Location)
	}
	attrs.PutStr(attrTransport, "tcp")
	if r.State != "" {
		attrs.PutStr(attrConnectionState, r.State)
	}
}

// repeatBody is the line a person reads:
// Repeated | PID: - (no owner) | Reason: NO_SOCKET | Function: tcp_v4_rcv+0x91 | 1234567 more drops in 10s
// Repeated | PID: - (no owner) | Reason: NO_SOCKET | 1234567 more resets in 10s
func repeatBody(r *drops.Repeat) string {
	b := append([]byte(nil), "Repeated | PID: "...)
	b = appendOwner(b, r.Owner)
	b = append(b, " | Reason: "...)
	b = append(b, r.Reason...)
	words := wordsOf(r.Kind)
	if words.located {
		b = append(b, " | Function: "...)
		b = append(b, r.Location...)
	}
	b = append(b, " | "...)
	b = strconv.AppendUint(b, r.Repeats, 10)
	b = append(b, " more "...)
	b = append(b, words.plural...)
	if !r.Since.IsZero() {
		b = append(b, " in "...)
		b = append(b, r.Until.Sub(r.Since).Round(time.Millisecond).String()...)
	}
	return string(b)
}
