// SPDX-License-Identifier: Apache-2.0

package owners

// The owner iterator (bpf/owner_socks.c) is compiled by `make generate`
// (clang-19) and the object is committed, so building never needs clang.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target bpfel ownerSocks ../../bpf/owner_socks.c -- -O2 -g -Wall -Werror -I../../bpf/include
