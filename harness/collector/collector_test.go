// SPDX-License-Identifier: Apache-2.0

package collector

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeEnv makes this test binary a stand-in collector: it prints its
// config file and exits on SIGTERM, at once or never.
const fakeEnv = "TCPDROP_FAKE_COLLECTOR"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		b, _ := os.ReadFile(os.Args[len(os.Args)-1]) // --config PATH
		os.Stdout.Write(b)
		<-term
		if mode == "stuck" {
			select {}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestStartStop(t *testing.T) {
	p := ForTest(t, os.Args[0], []byte("receivers: {}\n"), fakeEnv+"=exit")
	require.Eventually(t, func() bool { return p.Log(100) == "receivers: {}\n" }, 10*time.Second, 10*time.Millisecond)
	took, err := p.Stop(10 * time.Second)
	require.NoError(t, err)
	require.Less(t, took, 10*time.Second)
}

func TestStopTimesOut(t *testing.T) {
	p := ForTest(t, os.Args[0], []byte("x: 1\n"), fakeEnv+"=stuck")
	require.Eventually(t, func() bool { return p.Log(100) != "" }, 10*time.Second, 10*time.Millisecond)
	_, err := p.Stop(300 * time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
	p.Kill() // what the cleanup does too; twice is fine
}

func TestRootHoldsTheManifest(t *testing.T) {
	root, err := Root()
	require.NoError(t, err)
	require.FileExists(t, root+"/builder-config.yaml")
	require.FileExists(t, root+"/go.mod")
}

func TestBinaryFromEnv(t *testing.T) {
	t.Setenv(EnvBinary, "/opt/otelcol-tcpdrop")
	bin, err := Binary()
	require.NoError(t, err)
	require.Equal(t, "/opt/otelcol-tcpdrop", bin, "a collector built beforehand, not make build")
}
