// SPDX-License-Identifier: Apache-2.0

//go:build linux

package drops

import (
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// envServer makes the test binary a server (see TestMain): it listens on
// the address the variable holds, in the network namespace it was started
// in, prints "listening <unix nanoseconds of listen()>" and holds the
// socket until its stdin closes (30 s at most: it never outlives a test).
const envServer = "TCPDROP_DROPS_TEST_SERVER"

func TestMain(m *testing.M) {
	if addr := os.Getenv(envServer); addr != "" {
		os.Exit(server(addr))
	}
	os.Exit(m.Run())
}

func server(addr string) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer l.Close()
	fmt.Println("listening", time.Now().UnixNano())
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	return 0
}
