// SPDX-License-Identifier: Apache-2.0

package kallsyms

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// maxNameLen bounds a symbol name; the kernel's own limit (KSYM_NAME_LEN) is
// 512, so anything longer is a malformed line.
const maxNameLen = 1024

// LoadFile reads a file in /proc/kallsyms format; in production the path is
// "/proc/kallsyms".
func LoadFile(path string) (*Symbolizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: %w", err)
	}
	defer f.Close()
	s, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: %s: %w", path, err)
	}
	return s, nil
}

// Load parses /proc/kallsyms format ("ffffffff81000000 T _stext", module
// symbols followed by "\t[mod]"). Only text symbols (t, T, w, W) are kept.
// Malformed lines are skipped. An input with no usable text symbol is an
// error, unless every address in it is zero: that is the Restricted case.
func Load(r io.Reader) (*Symbolizer, error) {
	var (
		p        parser
		br       = bufio.NewReaderSize(r, 64<<10)
		skipping bool // in the rest of a line too long for the buffer
	)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			skipping = true
			continue
		}
		if skipping {
			skipping = false // the tail of an over-long line: not a symbol
		} else if perr := p.line(line); perr != nil {
			return nil, perr
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
	}
	return p.finish()
}

// parser accumulates symbols. Names go into one arena so that loading
// ~120k symbols costs a handful of allocations instead of one per name.
type parser struct {
	syms    []symbol
	arena   []byte
	lines   int  // well-formed lines of any type
	nonZero bool // some well-formed line has a non-zero address
}

func (p *parser) line(line []byte) error {
	addr, typ, name, ok := parseLine(line)
	if !ok {
		return nil
	}
	p.lines++
	if addr == 0 {
		// Hidden by kptr_restrict, or an absolute symbol: nothing to resolve.
		return nil
	}
	p.nonZero = true
	if !isText(typ) {
		return nil
	}
	if len(p.arena)+len(name) > math.MaxUint32 {
		return errors.New("symbol names exceed 4 GiB")
	}
	p.syms = append(p.syms, symbol{addr: addr, off: uint32(len(p.arena)), end: uint32(len(p.arena) + len(name))})
	p.arena = append(p.arena, name...)
	return nil
}

func (p *parser) finish() (*Symbolizer, error) {
	if p.lines > 0 && !p.nonZero {
		return &Symbolizer{restricted: true}, nil
	}
	if len(p.syms) == 0 {
		return nil, errors.New("no text symbols found")
	}
	// Stable: the kernel lists its preferred alias of an address first
	// (_stext before _text), so the first one in file order names it.
	slices.SortStableFunc(p.syms, func(a, b symbol) int {
		switch {
		case a.addr < b.addr:
			return -1
		case a.addr > b.addr:
			return 1
		}
		return 0
	})
	p.syms = slices.CompactFunc(p.syms, func(a, b symbol) bool { return a.addr == b.addr })
	return &Symbolizer{
		syms:  slices.Clip(p.syms),
		names: string(p.arena),
	}, nil
}

// parseLine splits "addr type name[\t[module]]". Fields are separated by
// spaces or tabs; anything after the name is ignored.
func parseLine(line []byte) (addr uint64, typ byte, name []byte, ok bool) {
	addrField, rest := nextField(line)
	typField, rest := nextField(rest)
	name, _ = nextField(rest)
	if len(typField) != 1 || len(name) == 0 || len(name) > maxNameLen {
		return 0, 0, nil, false
	}
	addr, ok = parseHex(addrField)
	return addr, typField[0], name, ok
}

// nextField returns the first run of non-blank bytes and what follows it.
func nextField(b []byte) (field, rest []byte) {
	start := 0
	for start < len(b) && isBlank(b[start]) {
		start++
	}
	end := start
	for end < len(b) && !isBlank(b[end]) {
		end++
	}
	return b[start:end], b[end:]
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// parseHex parses 1 to 16 hex digits without allocating.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

func isText(typ byte) bool {
	switch typ {
	case 't', 'T', 'w', 'W':
		return true
	}
	return false
}
