// SPDX-License-Identifier: Apache-2.0

package drops

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultOptionsPass(t *testing.T) {
	if err := DefaultOptions().Check(); err != nil {
		t.Fatal(err)
	}
}

// TestProbeGetsEveryKernelOption: each option the kernel program has a
// field of the same name for reaches it as set.
func TestProbeGetsEveryKernelOption(t *testing.T) {
	o := Options{RingBufferSize: 1 << 16, WakeupBytes: 3, FlushInterval: 5, MaxCounters: 7, MaxLogRecordsPerSecond: 11, LogRecordsPerKey: 13, KernelStack: true}
	p := o.probeOptions(false, false)
	ov, pv := reflect.ValueOf(o), reflect.ValueOf(p)
	shared := 0
	for i := range ov.NumField() {
		name := ov.Type().Field(i).Name
		f := pv.FieldByName(name)
		if !f.IsValid() {
			continue
		}
		shared++
		if !f.Equal(ov.Field(i)) {
			t.Errorf("probe.Options.%s = %v, want %v", name, f, ov.Field(i))
		}
	}
	if want := 7; shared != want {
		t.Errorf("%d options share a name with probe.Options, want %d: an option under two names?", shared, want)
	}
}

// TestSeriesExpiryRange: 0 (never) or within its range, else an error that
// names the key.
func TestSeriesExpiryRange(t *testing.T) {
	for _, d := range []time.Duration{0, MinSeriesExpiry, MaxSeriesExpiry} {
		o := DefaultOptions()
		o.SeriesExpiry = d
		if err := o.Check(); err != nil {
			t.Errorf("series_expiry %v: %v", d, err)
		}
	}
	for _, d := range []time.Duration{-time.Second, time.Millisecond, MaxSeriesExpiry + time.Hour} {
		o := DefaultOptions()
		o.SeriesExpiry = d
		if err := o.Check(); err == nil || !strings.Contains(err.Error(), "series_expiry") {
			t.Errorf("series_expiry %v: %v, want an error naming series_expiry", d, err)
		}
	}
}
