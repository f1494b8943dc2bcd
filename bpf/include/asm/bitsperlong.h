/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF target has no asm headers of its own: use the generic ones so the
 * object does not depend on the build host's architecture. */
#include <asm-generic/bitsperlong.h>
