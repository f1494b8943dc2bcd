// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"os"
	"strings"
	"testing"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.RingBufferSize != DefaultRingBufferSize || o.WakeupBytes != DefaultRingBufferSize/16 ||
		o.FlushInterval != DefaultFlushInterval || o.MaxCounters != DefaultMaxCounters {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestOptionsRejects(t *testing.T) {
	page := os.Getpagesize()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{RingBufferSize: 3 * page}, "power of two"},
		{Options{RingBufferSize: page / 2}, "page size"},
		{Options{WakeupBytes: DefaultRingBufferSize + 1}, "wakeup_bytes"},
		{Options{WakeupBytes: -1}, "wakeup_bytes"},
		{Options{FlushInterval: -1}, "flush_interval"},
		{Options{MaxCounters: -5}, "max_counters"},
		{Options{MaxLogRecordsPerSecond: -1}, "max_log_records_per_second"},
	} {
		_, err := tc.opts.withDefaults()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error about %q", tc.opts, err, tc.want)
		}
	}
}

func TestTCPFlagsString(t *testing.T) {
	for flags, want := range map[TCPFlags]string{
		0:                           "",
		FlagSYN:                     "SYN",
		FlagSYN | FlagACK:           "SYN|ACK",
		FlagRST | FlagACK:           "ACK|RST",
		FlagFIN | FlagACK | FlagPSH: "ACK|FIN|PSH",
		0xff:                        "SYN|ACK|FIN|RST|PSH|URG|ECE|CWR",
	} {
		if got := flags.String(); got != want {
			t.Errorf("%08b: got %q, want %q", uint8(flags), got, want)
		}
	}
}
