// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/receiver"
)

// One tcp_drop receiver named in both a logs and a metrics pipeline must
// attach the probe once. The collector creates the two separately, with the
// same *Config, so instances are kept here by config until shut down.
var (
	instancesMu sync.Mutex
	instances   = map[*Config]*dropReceiver{}
)

// sharedReceiver returns the receiver for cfg, made on first use.
func sharedReceiver(cfg *Config, set receiver.Settings) (*dropReceiver, error) {
	instancesMu.Lock()
	defer instancesMu.Unlock()
	if r, ok := instances[cfg]; ok {
		return r, nil
	}
	r, err := newDropReceiver(cfg, set)
	if err != nil {
		return nil, err
	}
	instances[cfg] = r
	return r, nil
}

// sharedComponent is what the collector holds for one pipeline: Shutdown
// forgets the instance so that a reloaded configuration starts afresh.
type sharedComponent struct {
	*dropReceiver
}

func (s sharedComponent) Start(ctx context.Context, host component.Host) error {
	return s.dropReceiver.Start(ctx, host)
}

func (s sharedComponent) Shutdown(ctx context.Context) error {
	instancesMu.Lock()
	if instances[s.cfg] == s.dropReceiver {
		delete(instances, s.cfg)
	}
	instancesMu.Unlock()
	return s.dropReceiver.Shutdown(ctx)
}
