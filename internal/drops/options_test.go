// SPDX-License-Identifier: Apache-2.0

package drops

import (
	"reflect"
	"testing"
)

// TestProbeGetsEveryKernelOption: each option the kernel program has a
// field of the same name for reaches it as set.
func TestProbeGetsEveryKernelOption(t *testing.T) {
	o := Options{RingBufferSize: 1 << 16, WakeupBytes: 3, FlushInterval: 5, MaxCounters: 7, MaxLogRecordsPerSecond: 11, LogRecordsPerKey: 13, KernelStack: true, Resets: true}
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
	if want := 10; shared != want {
		t.Errorf("%d options share a name with probe.Options, want %d: an option under two names?", shared, want)
	}
}
