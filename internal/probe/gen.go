// SPDX-License-Identifier: Apache-2.0

package probe

// The kernel program is compiled by `make generate` (clang-19) and the
// object is committed, so building the collector never needs clang.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target bpfel -type drop_event -type count_key -type count_slot -type probe_stats -type listener_key -type drop_event_stack tcpdrop ../../bpf/tcpdrop.c -- -O2 -g -Wall -Werror -I../../bpf/include

// The listen-state program (bpf/listen_state.c), loaded apart from the
// tcp_drop program so that a kernel that refuses it only loses its help.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target bpfel -type closed_listener -type sock_birth tcpdropListen ../../bpf/listen_state.c -- -O2 -g -Wall -Werror -I../../bpf/include
