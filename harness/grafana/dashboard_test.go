// SPDX-License-Identifier: Apache-2.0

package grafana

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The shipped dashboard reads as the test and the renderer expect it to:
// what it must show is there, every query names only defined variables.
func TestShippedDashboard(t *testing.T) {
	d, err := Load(filepath.Join("..", "..", "deploy", "grafana", "tcp_drop.json"))
	require.NoError(t, err)
	require.NotNil(t, d.Variable("host"), "a node variable")
	require.Equal(t, "query", d.Variable("host").Type)
	var exprs []string
	for _, p := range d.Panels() {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, metric := range []string{
		"tcp_drop_packets_total", "tcp_drop_listen_queue_size", "tcp_drop_listen_queue_limit",
		"tcp_drop_events_lost_total", "tcp_drop_events_shed_total", "tcp_drop_packets_uncounted_total",
		"tcp_drop_kernel_missed_total", "tcp_drop_resets_total", "tcp_drop_retransmits_total",
		"tcp_drop_connects_failed_total",
	} {
		require.Contains(t, all, metric)
	}
	for _, label := range []string{"tcp_drop_reason", "tcp_drop_kernel_function", "process_executable_name", "container_id", "host_name"} {
		require.Contains(t, all, label)
	}
	_, err = d.VMUI(map[string]string{"host": ".*", "__rate_interval": "1m"})
	require.NoError(t, err)
}

const minimal = `{
  "title": "t",
  "templating": {"list": [
    {"name": "datasource", "type": "datasource", "query": "prometheus"},
    {"name": "host", "type": "query", "query": {"query": "label_values(m, host_name)"}}
  ]},
  "panels": [
    {"type": "row", "id": 1, "title": "R", "gridPos": {"h": 1, "w": 24, "y": 0}},
    {"type": "timeseries", "id": 2, "title": "P", "gridPos": {"w": 12, "x": 0},
     "datasource": {"type": "prometheus", "uid": "${datasource}"},
     "fieldConfig": {"defaults": {"unit": "pps"}},
     "targets": [
       {"refId": "A", "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "expr": "rate(m{host_name=~\"$host\"}[$__rate_interval])", "legendFormat": "{{reason}}"},
       {"refId": "B", "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "expr": "sum(m{host_name=~\"${host}\"})", "instant": true, "range": false}
     ]}
  ]
}`

func TestParse(t *testing.T) {
	d, err := Parse([]byte(minimal))
	require.NoError(t, err)
	require.Equal(t, "label_values(m, host_name)", d.Variable("host").Query)
	require.Len(t, d.Rows, 1)
	require.Equal(t, "R", d.Rows[0].Title)
	p := d.Rows[0].Panels[0]
	require.Equal(t, 12, p.Width)
	require.Equal(t, "pps", p.Unit)
	require.False(t, p.Targets[0].Instant)
	require.True(t, p.Targets[1].Instant)
	require.Equal(t, "{{reason}}", p.Targets[0].Legend)
}

func TestParseRejects(t *testing.T) {
	replaceLast := func(s, old, with string) string {
		i := strings.LastIndex(s, old)
		return s[:i] + with + s[i+len(old):]
	}
	const ds = `"uid": "${datasource}"`
	for name, in := range map[string]string{
		"undefined variable":  strings.Replace(minimal, `$__rate_interval`, `$window`, 1),
		"panel's data source": strings.Replace(minimal, ds, `"uid": "abc"`, 1), // the panel's is the first
		"query's data source": replaceLast(minimal, ds, `"uid": "abc"`),
		"no data source var":  strings.Replace(minimal, `"name": "datasource"`, `"name": "ds"`, 1),
		"duplicate id":        strings.Replace(minimal, `"id": 2`, `"id": 1`, 1),
		"outside the columns": strings.Replace(minimal, `"x": 0`, `"x": 20`, 1),
		"overlapping panels":  strings.Replace(minimal, `"gridPos": {"w": 12, "x": 0}`, `"gridPos": {"w": 12, "x": 0, "h": 8}`, 1),
		"empty query":         strings.Replace(minimal, `"expr": "sum(m{host_name=~\"${host}\"})"`, `"expr": " "`, 1),
		"not JSON":            minimal[:40],
	} {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, minimal, in, "the edit applies")
			_, err := Parse([]byte(in))
			require.Error(t, err)
			t.Log(err)
		})
	}
}

func TestExpand(t *testing.T) {
	got, err := Expand(`rate(m{host_name=~"$host", x="${host}"}[$__rate_interval])`,
		map[string]string{"host": "a|b", "__rate_interval": "1m"})
	require.NoError(t, err)
	require.Equal(t, `rate(m{host_name=~"a|b", x="a|b"}[1m])`, got)

	_, err = Expand(`m{h="$host"}[$__range]`, map[string]string{"host": "a"})
	require.ErrorContains(t, err, "$__range")
}

func TestVMUI(t *testing.T) {
	d, err := Parse([]byte(minimal))
	require.NoError(t, err)
	b, err := d.VMUI(map[string]string{"host": ".*", "__rate_interval": "30s"})
	require.NoError(t, err)
	var got vmuiDashboard
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, vmuiDashboard{Title: "t", Rows: []vmuiRow{{Title: "R", Panels: []vmuiPanel{{
		Title: "P", Unit: "packets/s", Width: 6,
		Expr:  []string{`rate(m{host_name=~".*"}[30s])`, `sum(m{host_name=~".*"})`},
		Alias: []string{"{{reason}}", ""},
	}}}}}, got)

	_, err = d.VMUI(map[string]string{"host": ".*"})
	require.ErrorContains(t, err, "$__rate_interval")
	odd, err := Parse([]byte(strings.Replace(minimal, `"pps"`, `"decbytes"`, 1)))
	require.NoError(t, err)
	_, err = odd.VMUI(map[string]string{"host": ".*", "__rate_interval": "30s"})
	require.ErrorContains(t, err, "decbytes")
}

func TestFlat(t *testing.T) {
	d, err := Load(filepath.Join("..", "..", "deploy", "grafana", "tcp_drop.json"))
	require.NoError(t, err)
	require.Greater(t, len(d.Rows), 1)
	flat := d.Flat()
	require.Len(t, flat.Rows, 1)
	require.Equal(t, d.Title, flat.Rows[0].Title)
	require.Equal(t, d.Panels(), flat.Rows[0].Panels)
}
