// SPDX-License-Identifier: Apache-2.0

package backends

import (
	"fmt"
	"os"
)

// The environment variables that name the backends' binaries.
const (
	EnvPrometheus   = "TCPDROP_PROMETHEUS"
	EnvVictoriaLogs = "TCPDROP_VICTORIALOGS"
)

// Binaries are the backends' executables.
type Binaries struct {
	Prometheus   string
	VictoriaLogs string
}

// FromEnv returns the binaries the environment names, or an error that
// says how to get them.
func FromEnv() (Binaries, error) {
	b := Binaries{Prometheus: os.Getenv(EnvPrometheus), VictoriaLogs: os.Getenv(EnvVictoriaLogs)}
	for env, path := range map[string]string{EnvPrometheus: b.Prometheus, EnvVictoriaLogs: b.VictoriaLogs} {
		if path == "" {
			return b, fmt.Errorf("%s is not set: run the backend tests with `make test-backends`, which installs the pinned backends and sets it", env)
		}
		if _, err := os.Stat(path); err != nil {
			return b, fmt.Errorf("%s: %w", env, err)
		}
	}
	return b, nil
}
