/* SPDX-License-Identifier: GPL-2.0 */
/* Part of tcpdrop.c: the exact per-CPU counts of drops, and the program's
 * own losses (struct probe_stats). */
#ifndef TCPDROP_COUNTS_H
#define TCPDROP_COUNTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../kernel_consts.h"
#include "../tcpdrop.h"

/* The exact counts live in two maps of this type. The program counts into
 * the one tcpdrop_counts holds; user space, at each collection, puts the
 * other (empty) one there, then reads the first out and empties it
 * (internal/probe/counts.go: why no increment is lost). A map thus holds
 * the keys of one collection interval only. */
struct count_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384); /* resized by the loader */
	__type(key, struct count_key);
	__type(value, __u64); /* packets */
};
struct count_map tcpdrop_counts_a SEC(".maps"), tcpdrop_counts_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct count_map);
} tcpdrop_counts SEC(".maps") = {
	.values = { &tcpdrop_counts_a },
};

/* In front of each count map, a small per-CPU direct-mapped cache of
 * counts: a key's count lives in its slot (found by a hash of the key, with
 * no map lookup) when the slot was free for it in this interval, else in
 * the hash map. An array load and three compares cost less than a hash
 * lookup, and a flood is few keys. A slot is never given to another key
 * within an interval, so each count is in exactly one place; user space
 * drains the slots with the map (internal/probe/counts.go). */
#define COUNT_SLOTS 64
struct count_slots {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_SLOTS);
	__type(key, __u32);
	__type(value, struct count_slot);
};
struct count_slots tcpdrop_slots_a SEC(".maps"), tcpdrop_slots_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct count_slots);
} tcpdrop_slots SEC(".maps") = {
	.values = { &tcpdrop_slots_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_stats);
} tcpdrop_stats SEC(".maps");

static __always_inline struct probe_stats *stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&tcpdrop_stats, &zero);
}

/* count_n adds n packets (a retransmission's segments; a drop or a reset is
 * one) to the exact per-CPU counts of the current count map and returns
 * this CPU's count of the key after it (0: not counted).
 * The map is looked up once per drop and used only within this run of the
 * program, which is what lets user space know when it is no longer written.
 * A full map is counted in stats->uncounted so that totals stay exact. */
static __always_inline __u64 count_n(struct count_key *key, __u64 n)
{
	__u32 zero = 0;
	__u64 *k = (__u64 *)key; /* 24 bytes: three words */
	__u32 idx = ((k[0] ^ k[1] ^ k[2]) * 0x9E3779B97F4A7C15ULL) >> 58; /* 6 bits: COUNT_SLOTS */
	void *slots = bpf_map_lookup_elem(&tcpdrop_slots, &zero);
	struct count_slot *slot = slots ? bpf_map_lookup_elem(slots, &idx) : 0;
	if (slot) {
		__u64 *held = (__u64 *)&slot->key;
		if (!slot->packets) { /* free: this key's for the interval */
			slot->key = *key;
			slot->packets = n;
			return n;
		}
		if (held[0] == k[0] && held[1] == k[1] && held[2] == k[2])
			return slot->packets += n; /* per-CPU: no other writer */
	}
	void *counts = bpf_map_lookup_elem(&tcpdrop_counts, &zero);
	long err = -1;
	if (counts) {
		__u64 *packets = bpf_map_lookup_elem(counts, key);
		if (packets)
			return *packets += n; /* per-CPU: no other writer */
		__u64 first = n; /* not n's address: n stays a constant where it is one */
		err = bpf_map_update_elem(counts, key, &first, BPF_NOEXIST);
		if (!err)
			return n;
		if (err == -EEXIST) { /* another CPU added the key first */
			packets = bpf_map_lookup_elem(counts, key);
			if (packets)
				return *packets += n;
		}
	}
	struct probe_stats *st = stats();
	if (st)
		st->uncounted += n;
	return 0;
}

/* count adds one drop or reset (count_n). */
static __always_inline __u64 count(struct count_key *key)
{
	return count_n(key, 1);
}

#endif
