// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tcpdrop/tcpdrop/harness/otlpsink"
)

// sumPoints adds up the points keep accepts of metric name (a sum or a
// gauge) in md; ok is false when md holds no such point. keep sees each
// point with its Resource's attributes among its own.
func sumPoints(md pmetric.Metrics, name string, keep func(pmetric.NumberDataPoint) bool) (total int64, ok bool) {
	return otlpsink.LastOf([]pmetric.Metrics{md}, name, func(p otlpsink.Point) bool { return keep(p.Merged()) })
}
