// SPDX-License-Identifier: Apache-2.0

package backends

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// VictoriaLogs is a running VictoriaLogs server.
type VictoriaLogs struct {
	URL string // http://127.0.0.1:port
	p   *process
}

// StartVictoriaLogs runs bin with a storage directory of its own and waits
// until it is ready (/health). flags are added to its command line.
func StartVictoriaLogs(bin string, flags ...string) (*VictoriaLogs, error) {
	dir, err := os.MkdirTemp("", "tcpdrop-victorialogs-")
	if err != nil {
		return nil, err
	}
	args := func(port int) []string {
		return append([]string{
			"-storageDataPath=" + filepath.Join(dir, "data"),
			fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", port),
		}, flags...)
	}
	p, err := start("victoria-logs", dir, bin, args, "/health")
	if err != nil {
		return nil, err
	}
	return &VictoriaLogs{URL: p.url(), p: p}, nil
}

// OTLPLogsURL is where an otlp_http exporter sends logs (logs_endpoint).
func (s *VictoriaLogs) OTLPLogsURL() string { return s.URL + "/insert/opentelemetry/v1/logs" }

// Stop stops the server and removes its data; see process.stop.
func (s *VictoriaLogs) Stop() error { return s.p.stop() }

// Log is what the server has printed so far (its end).
func (s *VictoriaLogs) Log() string { return s.p.logTail() }

// Query runs a LogsQL query and returns the records (or stats rows) it
// gives, each a map of field name to value.
func (s *VictoriaLogs) Query(logsql string) ([]map[string]string, error) {
	resp, err := http.PostForm(s.URL+"/select/logsql/query", url.Values{"query": {logsql}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("LogsQL %q: %s: %.300s", logsql, resp.Status, body)
	}
	var out []map[string]string
	lines := bufio.NewScanner(bytes.NewReader(body))
	lines.Buffer(nil, 16<<20)
	for lines.Scan() {
		if len(bytes.TrimSpace(lines.Bytes())) == 0 {
			continue
		}
		row := map[string]string{}
		if err := json.Unmarshal(lines.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("LogsQL %q: %w: %.300s", logsql, err, lines.Bytes())
		}
		out = append(out, row)
	}
	return out, lines.Err()
}

// Count is the number of records filter (a LogsQL filter) matches.
func (s *VictoriaLogs) Count(filter string) (int, error) {
	rows, err := s.Query(filter + " | stats count() as n")
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 {
		return 0, fmt.Errorf("LogsQL count of %q: %d rows, want 1", filter, len(rows))
	}
	return strconv.Atoi(rows[0]["n"])
}
