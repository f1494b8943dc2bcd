// SPDX-License-Identifier: Apache-2.0

// Command tcpdrop-listener is a TCP server that does nothing but listen:
// the process a container test's drops belong to. It accepts and closes
// connections until SIGTERM or SIGINT. Built static (CGO off), it runs in a
// FROM scratch image.
//
//	tcpdrop-listener -listen 127.0.0.1:8080 -backlog 16
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	if err := run(*listen); err != nil {
		fmt.Fprintln(os.Stderr, "tcpdrop-listener:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s, pid %d\n", l.Addr(), os.Getpid())
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		c.Close()
	}
}
