// SPDX-License-Identifier: Apache-2.0

package harness

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tcpdrop/tcpdrop/"

// rules say which parts of the module a part may not depend on, directly
// or not, outside test files: the graph runs one way, from the commands and
// the harness to the receiver and internal/, never back.
var rules = []struct {
	from      string // module-relative prefix of the importing packages
	except    string // a prefix of from the rule does not apply to
	forbidden []string
}{
	{"internal/", "", []string{"receiver/", "harness/", "cmd/", "testing"}},
	// The engine (internal/drops) is built on the kernel-facing packages,
	// never the reverse.
	{"internal/", "internal/drops", []string{"internal/drops"}},
	{"receiver/", "", []string{"harness/", "cmd/", "testing"}},
	// The terminal exporter reads pdata only, whatever receiver fed it.
	// (Not "testing": the collector's exporterhelper imports it.)
	{"exporter/", "", []string{"internal/", "receiver/", "harness/", "cmd/"}},
	{"harness/", "", []string{"cmd/"}},
	// Commands are programs, not tests: no testing package in them.
	{"cmd/", "", []string{"testing"}},
}

// violations lists "pkg -> dep" for every dependency the rules forbid;
// deps maps a package's import path to its transitive non-test imports.
func violations(deps map[string][]string) []string {
	var out []string
	for pkg, ds := range deps {
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !strings.HasPrefix(rel, r.from) || (r.except != "" && strings.HasPrefix(rel, r.except)) {
				continue
			}
			for _, d := range ds {
				for _, f := range r.forbidden {
					if d == f || strings.HasPrefix(d, module+f) {
						out = append(out, pkg+" -> "+d)
					}
				}
			}
		}
	}
	return out
}

func TestViolations(t *testing.T) {
	deps := map[string][]string{
		module + "internal/probe":           {"fmt", module + "internal/kallsyms"},
		module + "internal/drops":           {module + "internal/probe", module + "internal/owners"},
		module + "internal/drops/x":         {module + "internal/drops"},
		module + "receiver/tcpdropreceiver": {module + "internal/probe"},
		module + "cmd/tcpdrop-flood":        {module + "harness/dropgen", module + "internal/netns"},
		module + "harness/sandbox":          {module + "internal/netns"},
		module + "harness/roottest":         {"testing"},
		"example.com/other":                 {"testing"},
	}
	if v := violations(deps); len(v) != 0 {
		t.Fatalf("allowed imports reported: %v", v)
	}
	bad := map[string][]string{
		module + "internal/owners":          {module + "harness/sandbox"},
		module + "internal/probe":           {module + "receiver/tcpdropreceiver"},
		module + "receiver/tcpdropreceiver": {module + "cmd/tcpdrop-bench"},
		module + "cmd/tcpdrop-flood":        {"testing"},
		module + "harness/dropgen":          {module + "cmd/tcpdrop-flood"},
		module + "internal/listeners":       {module + "internal/drops"},
	}
	if v := violations(bad); len(v) != len(bad) {
		t.Fatalf("violations %v, want one for each of %d packages", v, len(bad))
	}
}

// TestImportGraph checks the module's own packages, as `go list` sees them.
func TestImportGraph(t *testing.T) {
	// go test puts the go command that runs it first in PATH.
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[f[0]] = f[1:]
	}
	for _, p := range []string{"internal/probe", "receiver/tcpdropreceiver", "cmd/tcpdrop-flood", "harness/sandbox"} {
		if _, ok := deps[module+p]; !ok {
			t.Fatalf("go list did not list %s: %d packages", p, len(deps))
		}
	}
	for _, v := range violations(deps) {
		t.Error(v)
	}
}
