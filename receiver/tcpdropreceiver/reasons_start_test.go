// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/tcpdrop/tcpdrop/internal/dropreason"
)

// TestStartRefusesUnknownReasons: a reason name that cannot be one, or a
// typo of one the running kernel has, stops Start with an error naming the
// key and the closest names, before the kernel program is loaded (so
// without privileges too). A kernel without reasons (before 5.17) cannot
// tell a typo: only the malformed name is refused there.
func TestStartRefusesUnknownReasons(t *testing.T) {
	reasons, err := dropreason.FromKernel()
	if err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	cases := []struct {
		key  string
		name string
		want string
	}{
		{"exclude_reasons", "netfilter drop", `logs::exclude_reasons: "netfilter drop" is not a drop reason name`},
	}
	if reasons.Available() {
		cases = append(cases, struct{ key, name, want string }{
			"include_reasons", "NETFILTER_DORP", `logs::include_reasons: this kernel has no drop reason "NETFILTER_DORP"; closest on this kernel: NETFILTER_DROP`,
		})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			if tc.key == "exclude_reasons" {
				cfg.Logs.ExcludeReasons = []string{tc.name}
			} else {
				cfg.Logs.IncludeReasons = []string{tc.name}
			}
			lr, _ := createBoth(t, cfg, new(consumertest.LogsSink), new(consumertest.MetricsSink))
			err := lr.Start(context.Background(), componenttest.NewNopHost())
			require.ErrorContains(t, err, tc.want)
			require.NoError(t, lr.Shutdown(context.Background()))
		})
	}
}
