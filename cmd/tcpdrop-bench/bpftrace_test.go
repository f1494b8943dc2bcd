// SPDX-License-Identifier: Apache-2.0

package main

import "testing"

func TestBpftraceTotal(t *testing.T) {
	// bpftrace 0.17 at exit; newer versions name the enum values.
	out := "Attaching 1 probe...\n\n\n@[2]: 5\n@[3]: 4000012\n@[SKB_DROP_REASON_NOT_SPECIFIED]: 3\n"
	total, keys, err := bpftraceTotal(out)
	if err != nil || total != 4000020 || keys != 3 {
		t.Fatalf("total %d keys %d err %v", total, keys, err)
	}
	if _, _, err := bpftraceTotal("@[3]: lots\n"); err == nil {
		t.Fatal("bad count: want an error")
	}
	if _, keys, _ := bpftraceTotal("Attaching 1 probe...\n"); keys != 0 {
		t.Fatal("no map printed: want no keys")
	}
}

func TestOutput(t *testing.T) {
	w := &output{}
	write(t, w, []byte("Attach"))
	write(t, w, []byte("ing 1 probe...\n@[3]: 1"))
	write(t, w, []byte("0\n"))
	if got := w.text(); got != "Attaching 1 probe...\n@[3]: 10\n" {
		t.Fatalf("text %q", got)
	}
	write(t, w, make([]byte, maxOutput))
	write(t, w, []byte("more"))
	if n := len(w.text()); n > maxOutput+64 {
		t.Fatalf("kept %d bytes, cap %d", n, maxOutput)
	}
}

func write(t *testing.T, w *output, p []byte) {
	t.Helper()
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
}
