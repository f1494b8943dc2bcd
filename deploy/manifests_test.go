// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tcpdrop/tcpdrop/harness/collector"
	"github.com/tcpdrop/tcpdrop/harness/roottest"
)

// The Kubernetes release whose API the manifests are checked against, and
// the kubeconform that checks them; .ci/run fetches both.
const (
	kubernetesModule = "k8s.io/kubernetes@v1.37.2"
	kubeconformPkg   = "github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
)

// missing skips the test, or fails it with TCPDROP_REQUIRE_BPF=1 (CI, where
// everything must run).
func missing(t *testing.T, what string) {
	t.Helper()
	msg := what + "; set " + roottest.EnvRequire + "=1 to make this a failure"
	if b, _ := strconv.ParseBool(os.Getenv(roottest.EnvRequire)); b {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// kubeconform returns the kubeconform binary and a directory of schemas
// made from the Kubernetes API's OpenAPI document.
func kubeconform(t *testing.T) (bin, schemas string) {
	t.Helper()
	bin, err := exec.LookPath("kubeconform")
	if err != nil {
		bin = filepath.Join(goEnv(t, "GOPATH"), "bin", "kubeconform")
		if _, err := os.Stat(bin); err != nil {
			missing(t, "no kubeconform: go install "+kubeconformPkg)
		}
	}
	swagger := filepath.Join(goEnv(t, "GOMODCACHE"), kubernetesModule, "api", "openapi-spec", "swagger.json")
	if _, err := os.Stat(swagger); err != nil {
		missing(t, "no Kubernetes OpenAPI document: go mod download "+kubernetesModule)
	}
	schemas = t.TempDir()
	n, err := writeSchemas(swagger, schemas)
	require.NoError(t, err)
	require.Greater(t, n, 100, "schemas made from %s", swagger)
	return bin, schemas
}

func runKubeconform(bin, schemas string, files ...string) (string, error) {
	args := append([]string{"-strict", "-summary", "-schema-location", filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")}, files...)
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func manifests(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestManifestsValidate checks deploy/kubernetes against the schemas of
// Kubernetes 1.37's API, strictly (no unknown fields), and that the check
// refuses a broken DaemonSet.
func TestManifestsValidate(t *testing.T) {
	bin, schemas := kubeconform(t)
	out, err := runKubeconform(bin, schemas, manifests(t)...)
	require.NoError(t, err, out)
	require.Contains(t, out, "Invalid: 0, Errors: 0")
	t.Log(strings.TrimSpace(out))

	ds, err := os.ReadFile(filepath.Join("kubernetes", "11-agent-daemonset.yaml"))
	require.NoError(t, err)
	for _, c := range []struct{ from, to, error string }{
		{"\n      hostPID: true", "\n      hostPid: true", "hostPid"},       // a field the type does not have
		{"containerPort: 13133", `containerPort: "13133"`, "containerPort"}, // a string for an integer
		{"readOnly: true", "readOnly: yes please", "readOnly"},              // a string for a bool
	} {
		broken := bytes.Replace(ds, []byte(c.from), []byte(c.to), 1)
		require.NotEqual(t, ds, broken, c.from)
		path := filepath.Join(t.TempDir(), "broken.yaml")
		require.NoError(t, os.WriteFile(path, broken, 0o644))
		out, err = runKubeconform(bin, schemas, path)
		require.Error(t, err, "kubeconform accepted %q:\n%s", c.to, out)
		require.Contains(t, out, c.error)
	}
}

// documents parses every YAML document of a file.
func documents(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			require.ErrorContains(t, err, "EOF", path)
			return docs
		}
		docs = append(docs, doc)
	}
}

// dig returns the value at a path of keys in nested maps.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// TestCollectorConfigsValidate: the agent's and the gateway's
// configuration, and the Helm values' alternateConfig, are valid for this
// collector (otelcol-tcpdrop validate), as is the image's example config.
func TestCollectorConfigsValidate(t *testing.T) {
	root := collector.RootForTest(t)
	bin := collector.BinaryForTest(t)
	dir := t.TempDir()
	configs := map[string][]byte{}
	for _, f := range []string{"10-agent-configmap.yaml", "20-gateway-configmap.yaml"} {
		for _, doc := range documents(t, filepath.Join("kubernetes", f)) {
			cfg, ok := dig(doc, "data", "config.yaml").(string)
			require.True(t, ok, "%s: no data.config.yaml", f)
			configs[f] = []byte(cfg)
		}
	}
	values := documents(t, filepath.Join("helm", "values-agent.yaml"))
	require.Len(t, values, 1)
	alt, err := yaml.Marshal(values[0]["alternateConfig"])
	require.NoError(t, err)
	configs["helm alternateConfig"] = alt
	example, err := os.ReadFile(filepath.Join(root, "otelcol-config.example.yaml"))
	require.NoError(t, err)
	configs["otelcol-config.example.yaml"] = example
	for name, cfg := range configs {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".config.yaml")
		require.NoError(t, os.WriteFile(path, cfg, 0o644))
		cmd := exec.Command(bin, "validate", "--config", path)
		cmd.Env = append(os.Environ(), "POD_IP=127.0.0.1", "MY_POD_IP=127.0.0.1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s is not a valid configuration:\n%s", name, out)
	}
}

// TestHelmValuesMatchDaemonSet: the Helm values run the agent as the
// DaemonSet does: host pid namespace, security context, /sys, resources.
func TestHelmValuesMatchDaemonSet(t *testing.T) {
	ds := documents(t, filepath.Join("kubernetes", "11-agent-daemonset.yaml"))[0]
	pod := dig(ds, "spec", "template", "spec")
	container := dig(pod, "containers").([]any)[0]
	values := documents(t, filepath.Join("helm", "values-agent.yaml"))[0]

	require.Equal(t, "daemonset", values["mode"])
	require.Equal(t, true, dig(pod, "hostPID"))
	require.Equal(t, dig(pod, "hostPID"), values["hostPID"])
	require.Equal(t, dig(container, "securityContext"), values["securityContext"])
	require.Equal(t, dig(container, "resources"), values["resources"])
	require.Equal(t, dig(pod, "tolerations"), values["tolerations"])
	var sysVolume, sysMount any
	for _, v := range dig(pod, "volumes").([]any) {
		if dig(v, "name") == "sys" {
			sysVolume = v
		}
	}
	for _, m := range dig(container, "volumeMounts").([]any) {
		if dig(m, "name") == "sys" {
			sysMount = m
		}
	}
	require.Equal(t, []any{sysVolume}, values["extraVolumes"])
	require.Equal(t, []any{sysMount}, values["extraVolumeMounts"])
	require.Equal(t, []any{"BPF", "PERFMON", "SYSLOG", "SYS_PTRACE", "SYS_ADMIN"}, dig(container, "securityContext", "capabilities", "add"))
}
