// SPDX-License-Identifier: Apache-2.0

package kallsyms

import "sync"

// maxCached bounds the location cache. Real drop sites number in the tens, so
// this is never reached in practice; it keeps a stream of garbage addresses
// from growing memory without bound.
const maxCached = 4096

// locationCache maps addresses to formatted locations.
type locationCache struct {
	mu sync.RWMutex
	m  map[uint64]string
}

func (c *locationCache) get(addr uint64) (string, bool) {
	c.mu.RLock()
	loc, ok := c.m[addr]
	c.mu.RUnlock()
	return loc, ok
}

func (c *locationCache) put(addr uint64, loc string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[uint64]string)
	}
	// Starting over when full is crude but bounded, and the few real drop
	// sites are back in the cache after one lookup each.
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[addr] = loc
}

func (c *locationCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
