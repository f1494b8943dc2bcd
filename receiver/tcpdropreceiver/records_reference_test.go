// SPDX-License-Identifier: Apache-2.0

//go:build linux

package tcpdropreceiver

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.yaml.in/yaml/v3"

	"github.com/tcpdrop/tcpdrop/harness/fixture"
	"github.com/tcpdrop/tcpdrop/internal/drops"
	"github.com/tcpdrop/tcpdrop/internal/probe"
	"github.com/tcpdrop/tcpdrop/receiver/tcpdropreceiver/internal/metadata"
)

// recordReference is what metadata.yaml declares of the log records: the
// attributes of each kind of record (its events), with their types.
type recordReference struct {
	Attributes map[string]struct {
		Type string `yaml:"type"`
	} `yaml:"attributes"`
	Events map[string]struct {
		Attributes []string `yaml:"attributes"`
	} `yaml:"events"`
}

// TestRecordsMatchTheReference holds documentation.md, generated from
// metadata.yaml's events, to the records: every attribute a record carries
// is declared for its kind, with its type, and every declared attribute is
// on some record of the fixtures.
func TestRecordsMatchTheReference(t *testing.T) {
	b, err := os.ReadFile("metadata.yaml")
	require.NoError(t, err)
	var ref recordReference
	require.NoError(t, yaml.Unmarshal(b, &ref))

	conv := newLogConverter("1.2.3", newResources(metadata.DefaultResourceAttributesConfig(), testHost))
	overflows := fixtureOverflows()
	overflows[0].Estimated = true
	tally := drops.NewTally(fixture.LoadNames(t, notAvailable), testOwners, 0)
	tally.Add(probe.Counts{}, dropTime)
	counts := fixtureCounts()
	counts.ByKey[2].Repeats = 4 // the server's: a socket in a state
	repeats := tally.Add(counts, dropTime.Add(10*time.Second)).Repeats

	kinds := []struct {
		event   string
		records func() plog.Logs
	}{
		{"tcp_drop.drop", func() plog.Logs { return conv.convert(nameDrops(t, fixtureEvents()), dropTime) }},
		{"tcp_drop.reset", func() plog.Logs { return conv.convert(nameDrops(t, fixtureResets()), dropTime) }},
		{"tcp_drop.retransmit", func() plog.Logs { return conv.convert(nameDrops(t, fixtureRetransmits()), dropTime) }},
		{"tcp_drop.connect.failed", func() plog.Logs { return conv.convert(nameDrops(t, fixtureConnects()), dropTime) }},
		{"tcp_drop.listen.overflow", func() plog.Logs { return overflowConverter{logs: conv}.convert(overflows, dropTime) }},
		{"tcp_drop.repeats", func() plog.Logs { return repeatConverter{logs: conv}.convert(repeats, dropTime) }},
	}
	require.Len(t, ref.Events, len(kinds), "a kind of record for each event of metadata.yaml")
	for _, kind := range kinds {
		t.Run(kind.event, func(t *testing.T) {
			declared := map[string]bool{}
			for _, key := range ref.Events[kind.event].Attributes {
				declared[key] = true
			}
			require.NotEmpty(t, declared, "declared in metadata.yaml")
			seen := map[string]bool{}
			logs := kind.records()
			for i := 0; i < logs.ResourceLogs().Len(); i++ {
				records := logs.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
				for j := 0; j < records.Len(); j++ {
					for key, v := range records.At(j).Attributes().All() {
						require.True(t, declared[key], "%s is not declared for %s", key, kind.event)
						require.Equal(t, ref.Attributes[key].Type, valueTypeName(v.Type()), key)
						seen[key] = true
					}
				}
			}
			for key := range declared {
				require.True(t, seen[key], "%s is declared for %s but on no record", key, kind.event)
			}
		})
	}
}

// valueTypeName is an attribute's type as metadata.yaml names it.
func valueTypeName(t pcommon.ValueType) string {
	switch t {
	case pcommon.ValueTypeStr:
		return "string"
	case pcommon.ValueTypeInt:
		return "int"
	case pcommon.ValueTypeBool:
		return "bool"
	case pcommon.ValueTypeSlice:
		return "slice"
	}
	return t.String()
}
