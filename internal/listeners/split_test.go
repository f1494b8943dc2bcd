// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"math"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		total   uint64
		weights []uint64
		want    []uint64
	}{
		{18, []uint64{18}, []uint64{18}},
		{10, []uint64{1, 1}, []uint64{5, 5}},
		{11, []uint64{1, 1}, []uint64{6, 5}}, // tie: lower index
		{10, []uint64{3, 1}, []uint64{8, 2}}, // 7.5/2.5: tie on remainders, lower index
		{7, []uint64{0, 5, 2}, []uint64{0, 5, 2}},
		{3, []uint64{0, 0, 0}, []uint64{1, 1, 1}}, // no weight: equal
		{4, []uint64{0, 0, 0}, []uint64{2, 1, 1}},
		{0, []uint64{4, 5}, []uint64{0, 0}},
		{5, nil, []uint64{}},
		{math.MaxUint64, []uint64{math.MaxUint32, math.MaxUint32}, []uint64{math.MaxUint64/2 + 1, math.MaxUint64 / 2}},
		{10, []uint64{math.MaxUint64, 1}, []uint64{5, 5}}, // sum overflows: equal shares
	}
	for _, c := range cases {
		got := split(c.total, c.weights)
		if !slices.Equal(got, c.want) {
			t.Errorf("split(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add(uint64(22), uint64(10), uint64(3), uint64(0))
	f.Fuzz(func(t *testing.T, total, a, b, c uint64) {
		w := []uint64{a, b, c}
		s := split(total, w)
		var sum uint64
		for _, v := range s {
			sum += v
		}
		if sum != total {
			t.Fatalf("split(%d, %v) = %v: sums to %d", total, w, s, sum)
		}
	})
}
