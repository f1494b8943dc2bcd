// SPDX-License-Identifier: Apache-2.0

package grafana

import (
	"encoding/json"
	"fmt"
)

// The dashboard format of VictoriaMetrics' vmui (a file in the directory
// -vmui.customDashboardsPath names; app/vmui/README.md "Predefined
// dashboards"): rows of line charts, each of a list of queries.
type vmuiDashboard struct {
	Title string    `json:"title"`
	Rows  []vmuiRow `json:"rows"`
}

type vmuiRow struct {
	Title  string      `json:"title,omitempty"`
	Panels []vmuiPanel `json:"panels"`
}

type vmuiPanel struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	Expr        []string `json:"expr"`
	Alias       []string `json:"alias,omitempty"`
	Width       int      `json:"width"` // of vmui's 12 columns
}

// vmuiUnits are the y-axis labels vmui shows for the Grafana units the
// dashboard uses; vmui prints its unit as it is.
var vmuiUnits = map[string]string{
	"":            "",
	"short":       "",
	"pps":         "packets/s",
	"cps":         "connections/s",
	"percentunit": "of the limit",
}

// VMUI is the dashboard in vmui's format, with values substituted for its
// variables (Expand). Every panel becomes a line chart of its queries,
// tables too (their instant query drawn over time); Grafana's legend
// templates are vmui's aliases, which take the same {{label}} form.
func (d *Dashboard) VMUI(values map[string]string) ([]byte, error) {
	out := vmuiDashboard{Title: d.Title}
	for _, r := range d.Rows {
		row := vmuiRow{Title: r.Title}
		for _, p := range r.Panels {
			unit, ok := vmuiUnits[p.Unit]
			if !ok {
				return nil, fmt.Errorf("panel %q: unit %q has no vmui label here", p.Title, p.Unit)
			}
			vp := vmuiPanel{Title: p.Title, Description: p.Description, Unit: unit, Width: max(1, p.Width/2)}
			aliased := false
			for _, t := range p.Targets {
				expr, err := Expand(t.Expr, values)
				if err != nil {
					return nil, fmt.Errorf("panel %q: %w", p.Title, err)
				}
				vp.Expr = append(vp.Expr, expr)
				vp.Alias = append(vp.Alias, t.Legend)
				aliased = aliased || t.Legend != ""
			}
			if !aliased {
				vp.Alias = nil
			}
			row.Panels = append(row.Panels, vp)
		}
		out.Rows = append(out.Rows, row)
	}
	return json.MarshalIndent(out, "", "  ")
}
