// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
)

func TestParse(t *testing.T) {
	var stderr bytes.Buffer
	c, err := parse([]string{"-family", "6", "-rate", "100000", "-duration", "30s", "-workers", "2", "-kind", "rst", "-json"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	if o.Family != 6 || o.Rate != 100000 || o.Duration != 30*time.Second || o.Workers != 2 || o.Kind != dropgen.RST || !c.json {
		t.Fatalf("parsed %+v", c)
	}
	if c, _ = parse(nil, &stderr); c.opts.Duration != 10*time.Second || c.opts.Count != 0 {
		t.Fatalf("defaults %+v", c.opts)
	}
	// A count alone is not cut short by the default duration...
	if c, _ = parse([]string{"-count", "5"}, &stderr); c.opts.Duration != 0 || c.opts.Count != 5 {
		t.Fatalf("-count alone: %+v", c.opts)
	}
	// ...but both given means whichever comes first.
	if c, _ = parse([]string{"-count", "5", "-duration", "1s"}, &stderr); c.opts.Duration != time.Second {
		t.Fatalf("-count and -duration: %+v", c.opts)
	}
}

func TestBadArgsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-family", "5"}, {"-kind", "fin"}, {"-rate", "-1"}, {"extra"}, {"-nosuchflag"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

func TestPrintReport(t *testing.T) {
	r := dropgen.Report{Family: 4, Port: 9, Kind: "SYN", Workers: 1, Sent: 10, Drops: 20,
		Elapsed: time.Second, Kernel: &dropgen.Counters{TCPInSegs: 20, TCPOutRsts: 10}}
	var b bytes.Buffer
	if err := printReport(&b, r, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "sent 10 IPv4 SYN") || !strings.Contains(b.String(), "kernel agrees") {
		t.Fatalf("text report %q", b.String())
	}
	b.Reset()
	r.Kernel.TCPInSegs = 19
	if err := printReport(&b, r, true); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["sent"] != 10.0 || got["rate_pps"] != 10.0 || got["kernel_agrees"] != false {
		t.Fatalf("json report %v", got)
	}
}
