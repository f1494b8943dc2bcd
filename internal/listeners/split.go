// SPDX-License-Identifier: Apache-2.0

package listeners

import (
	"math/bits"
	"sort"
)

// split divides total among len(weights) shares proportionally to the
// weights, by largest remainder: the shares always add up to total exactly.
// Ties go to the lower index. With no positive weight the shares are equal
// (the remainder again to the lowest indexes).
func split(total uint64, weights []uint64) []uint64 {
	shares := make([]uint64, len(weights))
	if len(weights) == 0 || total == 0 {
		return shares
	}
	var sum uint64
	for _, w := range weights {
		var carry uint64
		sum, carry = bits.Add64(sum, w, 0)
		if carry != 0 {
			// Cannot happen with 32-bit sk_drops deltas; degrade to equal
			// shares rather than overflow.
			return split(total, make([]uint64, len(weights)))
		}
	}
	type rem struct {
		i int
		r uint64
	}
	rems := make([]rem, len(weights))
	var given uint64
	for i, w := range weights {
		if sum == 0 {
			w = 1
		}
		den := sum
		if den == 0 {
			den = uint64(len(weights))
		}
		// total*w/den in 128 bits: w <= den, so the quotient fits in 64.
		hi, lo := bits.Mul64(total, w)
		q, r := bits.Div64(hi, lo, den)
		shares[i] = q
		given += q
		rems[i] = rem{i, r}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < total; k++ {
		shares[rems[k%len(rems)].i]++
		given++
	}
	return shares
}
