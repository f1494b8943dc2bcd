package main

import (
	"strings"
	"testing"
)

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

func TestLineWatcher(t *testing.T) {
	w := newLineWatcher()
	w.Write([]byte("Attach"))
	select {
	case <-w.attaching:
		t.Fatal("attaching before the line is complete")
	default:
	}
	w.Write([]byte("ing 1 probe...\n@[3]: 1"))
	select {
	case <-w.attaching:
	default:
		t.Fatal("not attaching after the line")
	}
	w.Write([]byte("0\n"))
	w.Write([]byte("Attaching again\n")) // closes nothing twice
	if got := w.text(); !strings.Contains(got, "@[3]: 10\n") {
		t.Fatalf("text %q", got)
	}
}
