// SPDX-License-Identifier: Apache-2.0

package probe

// The yardstick program of BenchmarkFlood (bpf/bench/tcp_check_floor.c), used by
// tests only: its object and bindings are generated into _test files.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target bpfel -output-suffix _test tcpCheckFloor ../../bpf/bench/tcp_check_floor.c -- -O2 -g -Wall -Werror -I../../bpf/include
