// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestVerdict(t *testing.T) {
	curve := func(rss ...uint64) []sample {
		var ss []sample
		for i, r := range rss {
			ss = append(ss, sample{at: time.Duration(i) * time.Second, rss: r << 20, heap: 10 << 20})
		}
		return ss
	}
	for _, tc := range []struct {
		rss  []uint64
		want string
	}{
		{[]uint64{70, 72, 71, 73, 72, 74}, "RSS FLAT"},     // +4%
		{[]uint64{70, 70, 80, 85, 90, 95}, "RSS NOT FLAT"}, // +32%
		{[]uint64{80, 75, 70, 70, 70, 70}, "RSS FLAT"},     // down
		{[]uint64{70, 71}, "too few samples"},
	} {
		if got := verdict(curve(tc.rss...)); !strings.HasPrefix(got, tc.want) {
			t.Errorf("RSS %v: %q, want it to start with %q", tc.rss, got, tc.want)
		}
	}
}

// TestSinkKeepsTheLastWholeCollection: the points of one collection share
// a timestamp and may come in several requests; the sink reports the
// newest collection that a newer one has followed.
func TestSinkKeepsTheLastWholeCollection(t *testing.T) {
	s := &sink{byTime: map[pcommon.Timestamp]*collection{}}
	export := func(ts pcommon.Timestamp, owners, seriesEach int, uncounted int64) {
		md := pmetric.NewMetrics()
		for range owners {
			ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
			m := ms.AppendEmpty()
			m.SetName(metricPackets)
			dps := m.SetEmptySum().DataPoints()
			for range seriesEach {
				dps.AppendEmpty().SetTimestamp(ts)
			}
			u := ms.AppendEmpty()
			u.SetName(metricUncounted)
			dp := u.SetEmptySum().DataPoints().AppendEmpty()
			dp.SetTimestamp(ts)
			dp.SetIntValue(uncounted)
		}
		s.add(md)
	}
	export(10, 2, 3, 0)
	if got := s.last(); got.series != 6 || got.resources != 2 {
		t.Fatalf("after one export: %+v, want 6 series of 2 owners", got)
	}
	export(20, 1, 2, 7)
	export(20, 1, 1, 7) // the same collection, split
	if got := s.last(); got.series != 6 || got.resources != 2 {
		t.Fatalf("the second collection may not be whole yet: %+v, want the first's 6 series of 2 owners", got)
	}
	export(30, 1, 1, 7)
	if got := s.last(); got.series != 3 || got.resources != 2 || got.uncounted != 7 {
		t.Fatalf("%+v, want the second collection's 3 series of 2 owners, 7 uncounted", got)
	}
}
