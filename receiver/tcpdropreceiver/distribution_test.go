// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// collectorVersions lists, per major version, the versions of the core
// collector modules (go.opentelemetry.io/collector/...) a go.mod requires.
// Core modules are released together, one v0 and one v1 version at a time:
// more than one of either is a mix that breaks at build or start.
func collectorVersions(gomod string) map[string][]string {
	found := map[string][]string{}
	for _, line := range strings.Split(gomod, "\n") {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(fields) < 2 || !strings.HasPrefix(fields[0], "go.opentelemetry.io/collector/") {
			continue
		}
		v := fields[1]
		major, _, _ := strings.Cut(v, ".")
		if !slices.Contains(found[major], v) {
			found[major] = append(found[major], v)
		}
	}
	return found
}

func TestCollectorVersions(t *testing.T) {
	got := collectorVersions(`require (
	go.opentelemetry.io/collector/component v1.71.0
	go.opentelemetry.io/collector/exporter/debugexporter v0.165.0
	go.opentelemetry.io/collector/pdata v1.70.0 // indirect
	go.opentelemetry.io/contrib/otelconf v0.27.0 // indirect
)
require go.opentelemetry.io/collector/otelcol v0.165.0
`)
	if want := []string{"v1.71.0", "v1.70.0"}; !slices.Equal(got["v1"], want) {
		t.Errorf("v1 versions %v, want %v", got["v1"], want)
	}
	if want := []string{"v0.165.0"}; !slices.Equal(got["v0"], want) {
		t.Errorf("v0 versions %v, want %v", got["v0"], want)
	}
}

// checkDistributionVersions fails the test when ocb's go.mod mixes core
// collector versions, e.g. because this module required a newer one than
// builder-config.yaml pins.
func checkDistributionVersions(t *testing.T, gomodPath string) {
	t.Helper()
	gomod, err := os.ReadFile(gomodPath)
	if err != nil {
		t.Fatal(err)
	}
	for major, versions := range collectorVersions(string(gomod)) {
		if len(versions) != 1 {
			t.Errorf("%s requires core collector modules at several %s versions %v: align builder-config.yaml and go.mod", filepath.Base(filepath.Dir(gomodPath)), major, versions)
		}
	}
}
