// SPDX-License-Identifier: Apache-2.0

package probe

import (
	"reflect"
	"testing"
	"time"
)

// TestOptionsDefaults: a zero field takes the default, a set one is kept.
func TestOptionsDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.RingBufferSize != DefaultRingBufferSize || o.WakeupBytes != DefaultRingBufferSize/16 ||
		o.FlushInterval != DefaultFlushInterval || o.MaxCounters != DefaultMaxCounters {
		t.Fatalf("defaults: %+v", o)
	}
	set := Options{RingBufferSize: 1 << 16, WakeupBytes: 1, FlushInterval: time.Millisecond, MaxCounters: 7}
	if o := set.withDefaults(); !reflect.DeepEqual(o, set) {
		t.Fatalf("set: got %+v, want %+v", o, set)
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
