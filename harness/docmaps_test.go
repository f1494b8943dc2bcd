// SPDX-License-Identifier: Apache-2.0

package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpdrop/tcpdrop/harness/collector"
)

// The maps of the house written by hand (a package's "Where each job is"
// index in its doc.go, the layout in docs/design.md) go stale when a file
// is added; these tests say which file a map is missing.

// sourceFiles lists a directory's Go files that a reader edits: not tests,
// not generated code.
func sourceFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") ||
			strings.HasPrefix(n, "generated_") || strings.Contains(n, "_bpfel") {
			continue
		}
		names = append(names, n)
	}
	return names
}

func TestPackageIndexesNameEveryFile(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join(collector.RootForTest(t), "internal", "*", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	indexes := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		_, index, ok := strings.Cut(string(b), "Where each job is")
		if !ok {
			continue
		}
		indexes++
		for _, f := range sourceFiles(t, filepath.Dir(doc)) {
			if f != "doc.go" && !strings.Contains(index, f) {
				t.Errorf("%s: its index of files does not name %s", doc, f)
			}
		}
	}
	if indexes == 0 {
		t.Fatal("no doc.go with an index of files found: has the heading changed?")
	}
}

func TestDesignLayoutNamesEveryPart(t *testing.T) {
	root := collector.RootForTest(t)
	b, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(b), "## Layout")
	if !ok {
		t.Fatal("docs/design.md has no Layout section")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	var parts []string
	for _, pattern := range []string{"bpf/*.c", "internal/*", "cmd/*", "exporter/*", "receiver/*"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(root, m)
			parts = append(parts, rel)
		}
	}
	for _, p := range parts {
		if !strings.Contains(layout, p) {
			t.Errorf("docs/design.md's layout does not name %s", p)
		}
	}
}
