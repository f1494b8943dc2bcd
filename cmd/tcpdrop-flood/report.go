// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/tcpdrop/tcpdrop/harness/dropgen"
)

// jsonReport adds the derived numbers a reader of the JSON would otherwise
// have to compute.
type jsonReport struct {
	dropgen.Report
	Rate           float64 `json:"rate_pps"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	Scheduled      uint64  `json:"scheduled"`
	KernelAgrees   *bool   `json:"kernel_agrees,omitempty"`
}

// agrees says whether the namespace's kernel received exactly the segments
// the report accounts for (nil if the counters could not be read). Every
// segment received there is dropped, so InSegs is the drop count.
func agrees(r dropgen.Report) *bool {
	if r.Kernel == nil {
		return nil
	}
	ok := r.Kernel.TCPInSegs == r.Drops && r.Kernel.TCPInErrs == 0
	return &ok
}

func printReport(w io.Writer, r dropgen.Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(jsonReport{
			Report: r, Rate: r.Rate(), ElapsedSeconds: r.Elapsed.Seconds(),
			Scheduled: r.Scheduled(), KernelAgrees: agrees(r),
		})
	}
	if _, err := fmt.Fprintln(w, r); err != nil {
		return err
	}
	var verdict string
	switch ok := agrees(r); {
	case ok == nil:
		verdict = "kernel counters unavailable"
	case *ok:
		verdict = fmt.Sprintf("kernel agrees: Tcp:InSegs +%d = %d expected NO_SOCKET drops", r.Kernel.TCPInSegs, r.Drops)
	default:
		verdict = fmt.Sprintf("kernel DISAGREES: Tcp:InSegs +%d, InErrs +%d, expected %d drops", r.Kernel.TCPInSegs, r.Kernel.TCPInErrs, r.Drops)
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}
