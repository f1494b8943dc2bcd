// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpdrop/tcpdrop/internal/probe"
)

const catalogueFile = "../../docs/reasons.md"

// An entry is a reason's section of docs/reasons.md. Its heading is the
// name for a drop reason ("### NO_SOCKET", anchor #no_socket) and the name
// after "reset: " for a reset reason ("### reset: NO_SOCKET", anchor
// #reset-no_socket), as some names are in both enums; its first line says
// which kernels have it ("Kernels: 6.1, 6.12"). The reasons no kernel enum
// holds, the same on every kernel, have entries without that line: a
// retransmission's ("### retransmit: SYN_ACK", probe.RetransmitReason) and
// a failed connect's ("### connect: ETIMEDOUT", its errno).
type entry struct {
	Enum, Name, Kernels string
}

const (
	kernelsPrefix = "Kernels: "
	retransmits   = "retransmit" // the entries of probe.RetransmitReason
	connects      = "connect"    // the entries of failed connects' errnos
)

// headingPrefixes tell an entry's enum, or kind of reason, by its heading;
// a heading with none of them is a drop reason's.
var headingPrefixes = map[string]string{"reset: ": resetEnum, "retransmit: ": retransmits, "connect: ": connects}

// readCatalogue lists the entries of docs/reasons.md by enum and name.
func readCatalogue(r io.Reader) (map[[2]string]entry, error) {
	out := map[[2]string]entry{}
	var last *entry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if heading, ok := strings.CutPrefix(line, "### "); ok {
			e := entry{Enum: dropEnum, Name: strings.TrimSpace(heading)}
			for prefix, enum := range headingPrefixes {
				if name, ok := strings.CutPrefix(e.Name, prefix); ok {
					e.Enum, e.Name = enum, name
				}
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
	for prefix, e := range headingPrefixes {
		if e == enum {
			return "reasons.md#" + strings.TrimSuffix(prefix, ": ") + "-" + strings.ToLower(name)
		}
	}
	return "reasons.md#" + strings.ToLower(name)
}

// catalogue is docs/reasons.md's entries.
func catalogue(t *testing.T) map[[2]string]entry {
	t.Helper()
	f, err := os.Open(catalogueFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := readCatalogue(f)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestCatalogueCoversEveryName: docs/reasons.md has an entry for every name
// of the data file, saying which kernels have it, and none for a name no
// kernel has.
func TestCatalogueCoversEveryName(t *testing.T) {
	entries := catalogue(t)
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
		if !listed[key] && key[0] != retransmits && key[0] != connects {
			stale = append(stale, anchor(key[0], key[1]))
		}
	}
	slices.Sort(stale)
	if len(stale) > 0 {
		t.Errorf("%s has entries for names no kernel of %s has: %v", catalogueFile, namesFile, stale)
	}
}

// TestCatalogueCoversOwnReasons: docs/reasons.md has an entry for each
// retransmission reason the program names, and none for another; its
// failed connects' entries are errno names, the metadata's examples among
// them; none of them has a Kernels line.
func TestCatalogueCoversOwnReasons(t *testing.T) {
	var retransmitNames, connectNames []string
	for key, e := range catalogue(t) {
		switch key[0] {
		case retransmits:
			retransmitNames = append(retransmitNames, key[1])
		case connects:
			connectNames = append(connectNames, key[1])
		default:
			continue
		}
		if e.Kernels != "" {
			t.Errorf("%s: %q: every kernel gives it, it needs no such line", anchor(key[0], key[1]), kernelsPrefix+e.Kernels)
		}
	}
	var want []string
	for r := probe.RetransmitReason(1); r.String() != ""; r++ {
		want = append(want, r.String())
	}
	slices.Sort(want)
	slices.Sort(retransmitNames)
	if !slices.Equal(retransmitNames, want) {
		t.Errorf("%s: retransmission entries %v, want probe.RetransmitReason's %v", catalogueFile, retransmitNames, want)
	}
	errnos := map[string]bool{}
	for e := syscall.Errno(1); e < 256; e++ {
		errnos[unix.ErrnoName(e)] = true
	}
	for _, name := range connectNames {
		if !errnos[name] {
			t.Errorf("%s: %s is no errno name", catalogueFile, anchor(connects, name))
		}
	}
	for _, name := range []string{"ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH"} {
		if !slices.Contains(connectNames, name) {
			t.Errorf("%s has no entry %s", catalogueFile, anchor(connects, name))
		}
	}
}

func TestReadCatalogue(t *testing.T) {
	doc := "# Title\n\n### NO_SOCKET\nKernels: 6.1, 7.3\n\ntext\nKernels: not this one\n\n### reset: NO_SOCKET\nKernels: 6.12\n" +
		"\n### retransmit: SYN\n\ntext\n\n### connect: ETIMEDOUT\n"
	got, err := readCatalogue(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]entry{
		{dropEnum, "NO_SOCKET"}:  {dropEnum, "NO_SOCKET", "6.1, 7.3"},
		{resetEnum, "NO_SOCKET"}: {resetEnum, "NO_SOCKET", "6.12"},
		{retransmits, "SYN"}:     {retransmits, "SYN", ""},
		{connects, "ETIMEDOUT"}:  {connects, "ETIMEDOUT", ""},
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
