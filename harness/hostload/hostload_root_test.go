// SPDX-License-Identifier: Apache-2.0

package hostload

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpdrop/tcpdrop/harness/roottest"
	"github.com/tcpdrop/tcpdrop/internal/procfs"
)

func TestMain(m *testing.M) {
	RunChild() // the holders and the engine are this test binary run again
	os.Exit(m.Run())
}

// TestBuildHoldsWhatItSays counts the host's listeners and sockets in the
// holders' descriptors, and the namespaces their listeners are in.
func TestBuildHoldsWhatItSays(t *testing.T) {
	roottest.Require(t)
	const namespaces, sockets = 3, 2*Holders + 10
	h, err := Build(namespaces, sockets)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	held := 0
	for _, hp := range h.holders {
		procfs.ForEachFD("/proc", int32(hp.cmd.Process.Pid), func(_ string, target []byte) {
			if strings.HasPrefix(string(target), "socket:[") {
				held++
			}
		})
	}
	// The connections (both ends), 5 listeners per namespace, the drop target.
	if want := sockets + 5*namespaces + 1; held != want {
		t.Errorf("holders hold %d sockets, want %d", held, want)
	}
	seen := map[string]bool{}
	for _, c := range h.nsProcs {
		link, err := os.Readlink("/proc/" + strconv.Itoa(c.Process.Pid) + "/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		seen[link] = true
	}
	if len(seen) != namespaces {
		t.Errorf("%d distinct namespaces, want %d", len(seen), namespaces)
	}
}

// TestMeasureSeesOwnedDrops runs the engine on a small host: every drop it
// sees is the drop target's, whose owner it names.
func TestMeasureSeesOwnedDrops(t *testing.T) {
	roottest.Require(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Measure([]Cell{{Namespaces: 2, Sockets: 100}}, []Engine{{Name: "test", Binary: self}},
		Config{Warmup: 100 * time.Millisecond, Window: time.Second, Rate: 200}, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Dropped < 100 || r.Seen < 100 {
		t.Errorf("%.0f drops/s made, %.0f seen; want about 200", r.Dropped, r.Seen)
	}
	if r.Owned != 1 {
		t.Errorf("%.3f of the drops owned, want all", r.Owned)
	}
	if r.Idle <= 0 || r.UnderRate <= 0 {
		t.Errorf("engine CPU %v idle, %v under drops: want both measured", r.Idle, r.UnderRate)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
