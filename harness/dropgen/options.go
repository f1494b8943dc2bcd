// SPDX-License-Identifier: Apache-2.0

package dropgen

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the TCP segment the generator sends.
type Kind int

const (
	// SYN provokes an RST; both are dropped (two NO_SOCKET drops per packet).
	SYN Kind = iota
	// RST gets no answer (one NO_SOCKET drop per packet).
	RST
)

func (k Kind) String() string {
	switch k {
	case SYN:
		return "SYN"
	case RST:
		return "RST"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind reads "syn" or "rst" (any case).
func ParseKind(s string) (Kind, error) {
	switch s {
	case "syn", "SYN", "Syn":
		return SYN, nil
	case "rst", "RST", "Rst":
		return RST, nil
	}
	return 0, fmt.Errorf("dropgen: unknown segment kind %q (want syn or rst)", s)
}

// Options says what to send. The zero value means: IPv4 SYNs to port 9,
// as fast as possible, until the context ends.
type Options struct {
	Family int // 4 or 6; 0 means 4
	Port   int // closed destination port; 0 means DefaultPort
	// Firewalled allows a listener on Port: the caller has a firewall rule
	// drop its SYNs before the listener sees them (the drops are then the
	// rule's, not TCP's, and Report.Drops does not apply).
	Firewalled bool
	Kind       Kind          // SYN (default) or RST
	Rate       int           // packets per second over all workers; 0 = as fast as possible
	Duration   time.Duration // stop after this long; 0 = no limit
	Count      int           // stop after this many packet slots; 0 = no limit
	Workers    int           // sending goroutines, one socket each; 0 means 1
	Batch      int           // packets per sendmmsg call; 0 means DefaultBatch
	// Slack is how late a scheduled packet may be sent (Rate > 0 only).
	// Later slots are skipped and counted in Report.Behind, so the offered
	// load never bursts to catch up. 0 means DefaultSlack.
	Slack time.Duration

	// badChecksum corrupts every checksum; tests use it to prove the
	// kernel checks them on loopback.
	badChecksum bool
}

// Defaults. Port 9 (discard) has no listener in a fresh namespace; Run
// checks anyway.
const (
	DefaultPort  = 9
	DefaultBatch = 64
	DefaultSlack = 10 * time.Millisecond
	maxWorkers   = 64
	maxBatch     = 1024 // UIO_MAXIOV: the kernel's limit on one sendmmsg
)

var errBadOption = errors.New("dropgen: bad option")

// normalize fills in defaults and rejects what cannot be run.
func (o Options) normalize() (Options, error) {
	if o.Family == 0 {
		o.Family = 4
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	if o.Slack == 0 {
		o.Slack = DefaultSlack
	}
	switch {
	case o.Family != 4 && o.Family != 6:
		return o, fmt.Errorf("%w: family %d (want 4 or 6)", errBadOption, o.Family)
	case o.Port < 1 || o.Port > 65535:
		return o, fmt.Errorf("%w: port %d (want 1-65535)", errBadOption, o.Port)
	case o.Kind != SYN && o.Kind != RST:
		return o, fmt.Errorf("%w: kind %v", errBadOption, o.Kind)
	case o.Rate < 0:
		return o, fmt.Errorf("%w: rate %d < 0", errBadOption, o.Rate)
	case o.Duration < 0:
		return o, fmt.Errorf("%w: duration %v < 0", errBadOption, o.Duration)
	case o.Count < 0:
		return o, fmt.Errorf("%w: count %d < 0", errBadOption, o.Count)
	case o.Workers < 1 || o.Workers > maxWorkers:
		return o, fmt.Errorf("%w: workers %d (want 1-%d)", errBadOption, o.Workers, maxWorkers)
	case o.Batch < 1 || o.Batch > maxBatch:
		return o, fmt.Errorf("%w: batch %d (want 1-%d)", errBadOption, o.Batch, maxBatch)
	case o.Slack < 0:
		return o, fmt.Errorf("%w: slack %v < 0", errBadOption, o.Slack)
	}
	return o, nil
}

// DropsPerPacket is how many NO_SOCKET drops one packet of this kind causes
// in a namespace where nothing listens on the ports involved.
func (k Kind) DropsPerPacket() uint64 {
	if k == SYN {
		return 2
	}
	return 1
}

// Validate reports whether Run would accept o.
func (o Options) Validate() error {
	_, err := o.normalize()
	return err
}
