// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"errors"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	o, err := Options{}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if o.Family != 4 || o.Port != DefaultPort || o.Workers != 1 || o.Batch != DefaultBatch || o.Slack != DefaultSlack || o.Kind != SYN {
		t.Fatalf("defaults %+v", o)
	}
	for _, bad := range []Options{
		{Family: 5}, {Port: -1}, {Port: 65536}, {Kind: 7}, {Rate: -1},
		{Duration: -time.Second}, {Count: -1}, {Workers: -1}, {Workers: maxWorkers + 1},
		{Batch: maxBatch + 1}, {Batch: -3}, {Slack: -1},
	} {
		if _, err := bad.normalize(); !errors.Is(err, errBadOption) {
			t.Errorf("%+v: err %v, want a bad option", bad, err)
		}
	}
}

func TestParseKind(t *testing.T) {
	for s, want := range map[string]Kind{"syn": SYN, "SYN": SYN, "rst": RST} {
		if k, err := ParseKind(s); err != nil || k != want {
			t.Errorf("ParseKind(%q) = %v, %v", s, k, err)
		}
	}
	if _, err := ParseKind("fin"); err == nil {
		t.Error("ParseKind(fin) succeeded")
	}
	if SYN.DropsPerPacket() != 2 || RST.DropsPerPacket() != 1 {
		t.Error("drops per packet")
	}
}
