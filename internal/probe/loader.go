package probe

import "errors"

// Probe is the loaded and attached kernel program. (Work in progress: the
// real loader replaces this stub.)
type Probe struct{}

// Open loads the kernel program, attaches it and starts counting.
func Open(opts Options) (*Probe, error) { return nil, errors.New("probe: not implemented yet") }

// Read blocks until the next TCP drop event and writes it into ev.
// It returns ErrClosed once Close has been called.
func (p *Probe) Read(ev *Event) error { return ErrClosed }

// ReadBatch blocks until at least one event is ready, then fills evs with
// as many ready events as fit and returns how many it wrote.
func (p *Probe) ReadBatch(evs []Event) (int, error) { return 0, ErrClosed }

// Counts reads the exact in-kernel counts.
func (p *Probe) Counts() (Counts, error) { return Counts{}, nil }

// Close detaches and unloads everything. It is safe to call twice.
func (p *Probe) Close() error { return nil }
