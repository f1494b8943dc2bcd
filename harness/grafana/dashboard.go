// SPDX-License-Identifier: Apache-2.0

// Package grafana reads tcp_drop's Grafana dashboard
// (deploy/grafana/tcp_drop.json): its rows, panels and PromQL queries, with
// the dashboard's variables substituted. The dashboard test evaluates
// every query on a real Prometheus; the dashboard picture renders the same
// queries with VictoriaMetrics' vmui (VMUI), so the JSON file stays the one
// source of the queries.
package grafana

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// DatasourceUID is how every panel and query names its data source: the
// dashboard's Prometheus data source variable.
const DatasourceUID = "${datasource}"

// Dashboard is what the tests and the renderer need of a Grafana dashboard.
type Dashboard struct {
	Title     string
	Variables []Variable
	Rows      []Row
}

// Variable is a template variable of the dashboard.
type Variable struct {
	Name  string
	Type  string // "datasource", "query", ...
	Query string // a query variable's PromQL (label_values(...)); a datasource variable's plugin type
}

// Row is a row panel and the panels below it, up to the next row.
type Row struct {
	Title  string
	Panels []Panel
}

// Panel is a panel with queries.
type Panel struct {
	ID          int
	Type        string // "timeseries", "table", ...
	Title       string
	Description string
	Unit        string // Grafana's unit id: "pps", "percentunit", ...
	Width       int    // of Grafana's 24 columns
	Targets     []Target
}

// Target is one query of a panel.
type Target struct {
	RefID   string
	Expr    string // PromQL, with the dashboard's variables in it
	Legend  string // legendFormat: {{label}} templates
	Instant bool   // evaluated once, at the end of the time range (tables); else over the range
}

// The JSON of a dashboard, as much of it as is read here.
type jsonDashboard struct {
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []jsonPanel `json:"panels"`
}

type jsonPanel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  *datasource `json:"datasource"`
	GridPos     gridPos     `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		RefID        string      `json:"refId"`
		Datasource   *datasource `json:"datasource"`
		Expr         string      `json:"expr"`
		LegendFormat string      `json:"legendFormat"`
		Instant      bool        `json:"instant"`
		Range        *bool       `json:"range"`
	} `json:"targets"`
	Panels []jsonPanel `json:"panels"` // a collapsed row's
}

// gridPos is where a panel sits: x and w in Grafana's 24 columns, y and h
// in rows of its grid.
type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// overlaps says whether a and b share a cell of the grid.
func (a gridPos) overlaps(b gridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Load reads and checks a dashboard file (Parse).
func Load(path string) (*Dashboard, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Parse reads a dashboard and checks what the tests and renderer rely on:
// every panel but a row has a query, every panel and query reads the
// Prometheus data source variable, panels fit the 24 columns and do not
// overlap, ids are unique, and every variable a query uses is defined (or one of Grafana's
// own, $__rate_interval, $__interval and $__range).
func Parse(b []byte) (*Dashboard, error) {
	var j jsonDashboard
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	d := &Dashboard{Title: j.Title}
	defined, err := d.readVariables(j)
	if err != nil {
		return nil, err
	}
	if v := d.Variable("datasource"); v == nil || v.Type != "datasource" || v.Query != "prometheus" {
		return nil, errors.New(`no Prometheus data source variable "datasource"`)
	}
	var errs []error
	ids := map[int]bool{}
	add := func(p jsonPanel) {
		if ids[p.ID] {
			errs = append(errs, fmt.Errorf("panel %q: id %d used twice", p.Title, p.ID))
		}
		ids[p.ID] = true
		if p.Type == "row" {
			d.Rows = append(d.Rows, Row{Title: p.Title})
			return
		}
		panel, err := readPanel(p, defined)
		if err != nil {
			errs = append(errs, fmt.Errorf("panel %q: %w", p.Title, err))
			return
		}
		if len(d.Rows) == 0 {
			d.Rows = append(d.Rows, Row{})
		}
		r := &d.Rows[len(d.Rows)-1]
		r.Panels = append(r.Panels, panel)
	}
	for i, p := range j.Panels {
		add(p)
		for _, inner := range p.Panels {
			add(inner)
		}
		// A collapsed row's panels are placed when it opens: only the
		// dashboard's own panels share the grid.
		for _, q := range j.Panels[:i] {
			if p.GridPos.overlaps(q.GridPos) {
				errs = append(errs, fmt.Errorf("panel %q overlaps panel %q", p.Title, q.Title))
			}
		}
	}
	if len(ids) == 0 {
		errs = append(errs, errors.New("no panels"))
	}
	return d, errors.Join(errs...)
}

// readVariables reads j's template variables into d and returns their
// names, the ones its panels may use.
func (d *Dashboard) readVariables(j jsonDashboard) (defined map[string]bool, err error) {
	defined = map[string]bool{}
	for _, v := range j.Templating.List {
		q, err := variableQuery(v.Query)
		if err != nil {
			return nil, fmt.Errorf("variable %q: %w", v.Name, err)
		}
		d.Variables = append(d.Variables, Variable{Name: v.Name, Type: v.Type, Query: q})
		defined[v.Name] = true
	}
	return defined, nil
}

// variableQuery is a variable's query, which Grafana writes as a string or,
// for a Prometheus query variable, as {"query": "..."}.
func variableQuery(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(raw, &q); err != nil {
		return "", err
	}
	return q.Query, nil
}

func readPanel(p jsonPanel, defined map[string]bool) (Panel, error) {
	if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != DatasourceUID {
		return Panel{}, fmt.Errorf("data source %v, want the variable %s", p.Datasource, DatasourceUID)
	}
	if p.GridPos.W < 1 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
		return Panel{}, fmt.Errorf("x %d, width %d: outside Grafana's 24 columns", p.GridPos.X, p.GridPos.W)
	}
	if len(p.Targets) == 0 {
		return Panel{}, errors.New("no query")
	}
	out := Panel{ID: p.ID, Type: p.Type, Title: p.Title, Description: p.Description,
		Unit: p.FieldConfig.Defaults.Unit, Width: p.GridPos.W}
	for _, t := range p.Targets {
		if t.Datasource == nil || t.Datasource.UID != DatasourceUID {
			return Panel{}, fmt.Errorf("query %s: data source %v, want the variable %s", t.RefID, t.Datasource, DatasourceUID)
		}
		if strings.TrimSpace(t.Expr) == "" {
			return Panel{}, fmt.Errorf("query %s: no expr", t.RefID)
		}
		for _, name := range variablesIn(t.Expr) {
			if !defined[name] && !builtin[name] {
				return Panel{}, fmt.Errorf("query %s: variable $%s is not defined", t.RefID, name)
			}
		}
		instant := t.Instant && (t.Range == nil || !*t.Range)
		out.Targets = append(out.Targets, Target{RefID: t.RefID, Expr: t.Expr, Legend: t.LegendFormat, Instant: instant})
	}
	return out, nil
}

// Variable returns the variable named name, or nil.
func (d *Dashboard) Variable(name string) *Variable {
	for i := range d.Variables {
		if d.Variables[i].Name == name {
			return &d.Variables[i]
		}
	}
	return nil
}

// Panels returns every panel, row after row.
func (d *Dashboard) Panels() []Panel {
	var out []Panel
	for _, r := range d.Rows {
		out = append(out, r.Panels...)
	}
	return out
}

// builtin are the variables Grafana itself defines that queries may use.
var builtin = map[string]bool{"__rate_interval": true, "__interval": true, "__range": true}

// variableRef matches $name and ${name}, Grafana's two spellings.
var variableRef = regexp.MustCompile(`\$(?:\{(\w+)\}|(\w+))`)

func variablesIn(expr string) []string {
	var out []string
	for _, m := range variableRef.FindAllStringSubmatch(expr, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

// Expand substitutes values for the variables in expr, verbatim (a
// multi-value variable's regex, as Grafana makes it, is the caller's to
// give). A variable without a value is an error: a query sent with a
// literal $name in it would fail, or quietly match nothing.
func Expand(expr string, values map[string]string) (string, error) {
	var missing []string
	out := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		v, ok := values[m[1]+m[2]]
		if !ok {
			missing = append(missing, "$"+m[1]+m[2])
			return ref
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for %s in %s", strings.Join(missing, ", "), expr)
	}
	return out, nil
}

// Flat is the dashboard with all its panels in one row, titled as the
// dashboard: vmui opens only its first row, and a picture shows them all.
func (d *Dashboard) Flat() *Dashboard {
	return &Dashboard{Title: d.Title, Variables: d.Variables, Rows: []Row{{Title: d.Title, Panels: d.Panels()}}}
}
