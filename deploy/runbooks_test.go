// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// reasonsDoc is the runbooks' page, from the repository's root as the rules
// write it, and from here.
const (
	reasonsDoc     = "docs/reasons.md"
	reasonsDocHere = "../docs/reasons.md"
)

// TestRunbookLinksResolve: every alert's runbook_url in tcp_drop.rules.yaml
// is an anchor of docs/reasons.md that GitHub makes of one of its headings,
// and a templated one is so for every value of the labels it uses: for
// tcp_drop_reason every reset reason the page has an entry for, and
// NOT_AVAILABLE (kernels before 6.10).
func TestRunbookLinksResolve(t *testing.T) {
	anchors, resetReasons := readReasonsDoc(t)
	reasons := append([]string{"NOT_AVAILABLE"}, resetReasons...)
	b, err := os.ReadFile(filepath.Join("prometheus", "tcp_drop.rules.yaml"))
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
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
				values = reasons
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

// readReasonsDoc returns the anchors GitHub makes of the headings of
// docs/reasons.md and the names of its reset reasons' entries.
func readReasonsDoc(t *testing.T) (anchors map[string]bool, resetReasons []string) {
	t.Helper()
	f, err := os.Open(reasonsDocHere)
	require.NoError(t, err)
	defer f.Close()
	anchors = map[string]bool{}
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
		if name, ok := strings.CutPrefix(heading, "reset: "); ok {
			resetReasons = append(resetReasons, name)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, resetReasons, "%s has no reset reasons' entries (### reset: NAME)", reasonsDoc)
	return anchors, resetReasons
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
