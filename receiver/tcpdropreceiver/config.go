// SPDX-License-Identifier: Apache-2.0

package tcpdropreceiver

import (
	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// Config is the tcp_drop receiver's configuration. Every key has a default;
// `tcp_drop:` alone is a working configuration. The keys other than
// metrics:: are the engine's options, under the same names: their defaults
// and ranges are written there (internal/drops/options.go).
type Config struct {
	drops.Options `mapstructure:",squash"`

	metadata.MetricsBuilderConfig `mapstructure:",squash"`
}

// ListenQueuesConfig configures the listen-queue watcher.
type ListenQueuesConfig = drops.ListenQueues

func createDefaultConfig() *Config {
	return &Config{
		Options:              drops.DefaultOptions(),
		MetricsBuilderConfig: metadata.DefaultMetricsBuilderConfig(),
	}
}

// Validate checks every key and names the allowed range of a bad one.
func (c *Config) Validate() error {
	return c.Options.Check()
}
