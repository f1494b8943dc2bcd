// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

const catalogueFile = "../../docs/reasons.md"

// An entry is a reason's section of docs/reasons.md. Its heading is the
// name for a drop reason ("### NO_SOCKET", anchor #no_socket) and the name
// after "reset: " for a reset reason ("### reset: NO_SOCKET", anchor
// #reset-no_socket), as some names are in both enums; its first line says
// which kernels have it ("Kernels: 6.1, 6.12").
type entry struct {
	Enum, Name, Kernels string
}

const (
	kernelsPrefix = "Kernels: "
	resetHeading  = "reset: "
)

// readCatalogue lists the entries of docs/reasons.md by enum and name.
func readCatalogue(r io.Reader) (map[[2]string]entry, error) {
	out := map[[2]string]entry{}
	var last *entry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if heading, ok := strings.CutPrefix(line, "### "); ok {
			e := entry{Enum: dropEnum, Name: strings.TrimSpace(heading)}
			if name, ok := strings.CutPrefix(e.Name, resetHeading); ok {
				e.Enum, e.Name = resetEnum, name
			}
			last = &e
			out[[2]string{e.Enum, e.Name}] = e
			continue
		}
		if k, ok := strings.CutPrefix(line, kernelsPrefix); ok && last != nil && last.Kernels == "" {
			last.Kernels = strings.TrimSpace(k)
			out[[2]string{last.Enum, last.Name}] = *last
		}
	}
	return out, sc.Err()
}

// anchor is the link to a reason's entry, as alert rules and records write it.
func anchor(enum, name string) string {
	if enum == resetEnum {
		return "reasons.md#reset-" + strings.ToLower(name)
	}
	return "reasons.md#" + strings.ToLower(name)
}

// TestCatalogueCoversEveryName: docs/reasons.md has an entry for every name
// of the data file, saying which kernels have it, and none for a name no
// kernel has.
func TestCatalogueCoversEveryName(t *testing.T) {
	f, err := os.Open(catalogueFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := readCatalogue(f)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[[2]string]bool{}
	var missing []string
	for _, r := range loadRows(t) {
		if r.Name == absent {
			continue
		}
		key := [2]string{r.Enum, r.Name}
		listed[key] = true
		e, ok := entries[key]
		if !ok {
			missing = append(missing, anchor(r.Enum, r.Name))
			continue
		}
		if want := versions(r.Kernels); e.Kernels != want {
			t.Errorf("%s: %q, want %q (from %s)", anchor(r.Enum, r.Name), kernelsPrefix+e.Kernels, kernelsPrefix+want, namesFile)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s has no entry for %d name(s) of %s: %v", catalogueFile, len(missing), namesFile, missing)
	}
	var stale []string
	for key := range entries {
		if !listed[key] {
			stale = append(stale, anchor(key[0], key[1]))
		}
	}
	slices.Sort(stale)
	if len(stale) > 0 {
		t.Errorf("%s has entries for names no kernel of %s has: %v", catalogueFile, namesFile, stale)
	}
}

func TestReadCatalogue(t *testing.T) {
	doc := "# Title\n\n### NO_SOCKET\nKernels: 6.1, 7.3\n\ntext\nKernels: not this one\n\n### reset: NO_SOCKET\nKernels: 6.12\n"
	got, err := readCatalogue(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]entry{
		{dropEnum, "NO_SOCKET"}:  {dropEnum, "NO_SOCKET", "6.1, 7.3"},
		{resetEnum, "NO_SOCKET"}: {resetEnum, "NO_SOCKET", "6.12"},
	}
	if len(got) != len(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("entry %v = %v, want %v", k, got[k], w)
		}
	}
}
