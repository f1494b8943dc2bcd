// SPDX-License-Identifier: Apache-2.0

package terminalexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// timeLayout is the seed's: the time of day, to the second, local.
const timeLayout = "15:04:05"

// logsPrinter prints each record's body, the receiver's line for a person,
// after its time: [15:04:23] Drop | PID: 1234 (server) | Reason: ...
type logsPrinter struct{ out *lineWriter }

func (p logsPrinter) push(_ context.Context, ld plog.Logs) error {
	var b []byte
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				t := lr.Timestamp()
				if t == 0 {
					t = lr.ObservedTimestamp()
				}
				b = appendTime(b, t.AsTime())
				b = append(b, lr.Body().AsString()...)
				b = append(b, '\n')
			}
		}
	}
	if len(b) == 0 {
		return nil
	}
	return p.out.write(b)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '[')
	b = t.Local().AppendFormat(b, timeLayout)
	return append(b, "] "...)
}
