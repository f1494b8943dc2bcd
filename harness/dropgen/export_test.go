// SPDX-License-Identifier: Apache-2.0

package dropgen

// WithBadChecksum returns o set to write wrong TCP checksums.
func WithBadChecksum(o Options) Options {
	o.badChecksum = true
	return o
}
