// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseOptions(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.rounds != 3 || o.duration != 10*time.Second || o.rate != 0 || o.family != 4 || o.out != "benchmark_results" ||
		o.compare || o.limit != -1 {
		t.Fatalf("defaults %+v", o)
	}
	o, err = parseOptions([]string{"-rounds", "1", "-duration", "30s", "-rate", "100000", "-family", "6", "-compare", "-limit", "0"}, &stderr)
	if err != nil || o.rounds != 1 || o.duration != 30*time.Second || o.rate != 100000 || o.family != 6 || !o.compare || o.limit != 0 {
		t.Fatalf("%+v %v", o, err)
	}
}

func TestBadArgsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-rounds", "0"}, {"-duration", "0"}, {"-rate", "-1"}, {"-family", "5"},
		{"-workers", "0"}, {"-limit", "-2"}, {"-settle", "1ms"}, {"-out", ""}, {"extra"}, {"-nosuchflag"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "usage: tcpdrop-bench") {
		t.Errorf("-h: exit %d, %q", code, errb.String())
	}
}

func TestModes(t *testing.T) {
	names := func(ms []mode) (s []string) {
		for _, m := range ms {
			s = append(s, m.name)
		}
		return s
	}
	if got := strings.Join(names(benchModes(-1)), ","); got != "nothing,tcp-check floor,tcp_drop count-only,tcp_drop,tcp_drop per-drop,tcp_drop per-drop wakeup_bytes=1,bpftrace" {
		t.Errorf("bench modes %s", got)
	}
	if got := strings.Join(names(compareModes("d")), ","); got != "nothing,terminal,file,benchmark,busy" {
		t.Errorf("compare modes %s", got)
	}
	if got := benchModes(-1)[5].slug(); got != "tcp_drop_per-drop_wakeup_bytes1" {
		t.Errorf("slug %q", got)
	}
}
