// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"
)

// reasonsDoc is the runbooks' page, from the repository's root as the rules
// write it, and from here.
const (
	reasonsDoc     = "docs/reasons.md"
	reasonsDocHere = "../docs/reasons.md"
)

// TestRunbookLinksResolve: every alert's runbook_url in tcp_drop.rules.yaml
// is an anchor of docs/reasons.md that GitHub makes of one of its headings,
// and a templated one is so for every value of the labels it uses. The
// values of tcp_drop_reason are those of the metric the alert's expression
// reads: for resets every reset reason the page has an entry for, and
// NOT_AVAILABLE (kernels before 6.10); for retransmissions every
// retransmission entry's; for failed connects every errno name, and the
// name of an errno Go does not know ("errno N").
func TestRunbookLinksResolve(t *testing.T) {
	anchors, entries := readReasonsDoc(t)
	reasonsOf := map[string][]string{
		"tcp_drop_resets_total":          append([]string{"NOT_AVAILABLE"}, entries["reset"]...),
		"tcp_drop_retransmits_total":     entries["retransmit"],
		"tcp_drop_connects_failed_total": append(errnoNames(), "errno 999"),
	}
	b, err := os.ReadFile(filepath.Join("prometheus", "tcp_drop.rules.yaml"))
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &rules))
	linked := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			url, ok := r.Annotations["runbook_url"]
			if !ok {
				continue
			}
			linked++
			// Prometheus' templates are Go's, with $labels for the alert's
			// labels and toLower among their functions.
			tmpl, err := template.New(r.Alert).Funcs(template.FuncMap{"toLower": strings.ToLower}).
				Parse(strings.ReplaceAll(url, "$labels.", "."))
			require.NoError(t, err, "%s: runbook_url %q", r.Alert, url)
			values := []string{""}
			if strings.Contains(url, "$labels.tcp_drop_reason") {
				values = nil
				for metric, reasons := range reasonsOf {
					if strings.Contains(r.Expr, metric) {
						values = append(values, reasons...)
					}
				}
				require.NotEmpty(t, values, "%s: runbook_url %q: no reasons known for the metric of %s", r.Alert, url, r.Expr)
			}
			for _, v := range values {
				var out strings.Builder
				require.NoError(t, tmpl.Execute(&out, map[string]string{"tcp_drop_reason": v}))
				page, anchor, _ := strings.Cut(out.String(), "#")
				require.Equal(t, reasonsDoc, page, "%s: runbook_url %q", r.Alert, out.String())
				require.True(t, anchors[anchor], "%s: runbook_url %q (tcp_drop_reason %q): no such heading in %s", r.Alert, out.String(), v, reasonsDoc)
			}
		}
	}
	require.Positive(t, linked, "no alert has a runbook_url")
}

// errnoNames are the names of the errnos Go knows.
func errnoNames() []string {
	var names []string
	for e := syscall.Errno(1); e < 256; e++ {
		if name := unix.ErrnoName(e); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// readReasonsDoc returns the anchors GitHub makes of the headings of
// docs/reasons.md and the names of its entries of the reasons of a kind
// ("### reset: NAME", "### retransmit: NAME"...) by kind ("reset",
// "retransmit"...).
func readReasonsDoc(t *testing.T) (anchors map[string]bool, entries map[string][]string) {
	t.Helper()
	f, err := os.Open(reasonsDocHere)
	require.NoError(t, err)
	defer f.Close()
	anchors, entries = map[string]bool{}, map[string][]string{}
	sc := bufio.NewScanner(f)
	fenced := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		heading, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if fenced || !strings.HasPrefix(line, "#") || !ok {
			continue
		}
		a := githubAnchor(heading)
		for n := 1; anchors[a]; n++ { // GitHub numbers a repeated heading's anchor
			a = githubAnchor(heading) + "-" + strconv.Itoa(n)
		}
		anchors[a] = true
		if kind, name, ok := strings.Cut(heading, ": "); ok && strings.HasPrefix(line, "### ") {
			entries[kind] = append(entries[kind], name)
		}
	}
	require.NoError(t, sc.Err())
	for _, kind := range []string{"reset", "retransmit", "connect"} {
		require.NotEmpty(t, entries[kind], "%s has no entries ### %s: NAME", reasonsDoc, kind)
	}
	return anchors, entries
}

// notInAnchor is what GitHub leaves out of a heading's anchor: all but
// letters, digits, spaces, hyphens and underscores.
var notInAnchor = regexp.MustCompile(`[^\p{L}\p{N} _-]`)

// githubAnchor is the anchor GitHub gives a heading: in lower case, without
// punctuation, spaces made hyphens ("reset: NO_SOCKET" is reset-no_socket).
func githubAnchor(heading string) string {
	s := notInAnchor.ReplaceAllString(strings.ToLower(strings.TrimSpace(heading)), "")
	return strings.ReplaceAll(s, " ", "-")
}
