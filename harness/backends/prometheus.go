// SPDX-License-Identifier: Apache-2.0

package backends

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Prometheus is a running Prometheus server with its OTLP receiver on.
type Prometheus struct {
	URL string // http://127.0.0.1:port
	p   *process
}

// StartPrometheus runs bin with the configuration file config (rule_files
// in it are found relative to it, as Prometheus does) and a TSDB of its
// own, and waits until it is ready (/-/ready). flags are added to its
// command line.
func StartPrometheus(bin, config string, flags ...string) (*Prometheus, error) {
	config, err := filepath.Abs(config)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tcpdrop-prometheus-")
	if err != nil {
		return nil, err
	}
	args := func(port int) []string {
		return append([]string{
			"--config.file=" + config,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
			"--web.enable-otlp-receiver",
		}, flags...)
	}
	p, err := start("prometheus", dir, bin, args, "/-/ready")
	if err != nil {
		return nil, err
	}
	return &Prometheus{URL: p.url(), p: p}, nil
}

// OTLPMetricsURL is where an otlp_http exporter sends metrics
// (metrics_endpoint).
func (s *Prometheus) OTLPMetricsURL() string { return s.URL + "/api/v1/otlp/v1/metrics" }

// Stop stops the server and removes its data; see process.stop.
func (s *Prometheus) Stop() error { return s.p.stop() }

// Log is what the server has printed so far (its end).
func (s *Prometheus) Log() string { return s.p.logTail() }

// Sample is one element of an instant query's result.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query evaluates a PromQL expression now. A vector gives a sample per
// series, a scalar one sample without labels; a range vector is an error.
func (s *Prometheus) Query(expr string) ([]Sample, error) {
	return s.QueryAt(expr, time.Time{})
}

// QueryAt evaluates expr at time at (now if zero).
func (s *Prometheus) QueryAt(expr string, at time.Time) ([]Sample, error) {
	params := url.Values{"query": {expr}}
	if !at.IsZero() {
		params.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := s.Get("/api/v1/query", params, &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var series []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &series); err != nil {
			return nil, err
		}
		out := make([]Sample, len(series))
		for i, r := range series {
			v, err := sampleValue(r.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", expr, err)
			}
			out[i] = Sample{Labels: r.Metric, Value: v}
		}
		return out, nil
	case "scalar":
		var pair [2]any
		if err := json.Unmarshal(data.Result, &pair); err != nil {
			return nil, err
		}
		v, err := sampleValue(pair)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", expr, err)
		}
		return []Sample{{Labels: map[string]string{}, Value: v}}, nil
	}
	return nil, fmt.Errorf("%s: a %s, not an instant vector or a scalar", expr, data.ResultType)
}

// sampleValue reads [time, "value"].
func sampleValue(pair [2]any) (float64, error) {
	s, ok := pair[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", pair[1])
	}
	return strconv.ParseFloat(s, 64)
}

// Alert is an alert of /api/v1/alerts.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // pending or firing
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// Alerts are the alerts pending or firing now.
func (s *Prometheus) Alerts() ([]Alert, error) {
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	err := s.Get("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// Get calls an endpoint of Prometheus' HTTP API and decodes the "data" of
// a successful answer into data.
func (s *Prometheus) Get(path string, params url.Values, data any) error {
	u := s.URL + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("GET %s: %s: %.200s", u, resp.Status, body)
	}
	if answer.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, answer.Error)
	}
	return json.Unmarshal(answer.Data, data)
}
