package dropgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// listening returns the TCP ports with a listener in the calling thread's
// network namespace, IPv4 and IPv6. A listener on the destination port would
// accept the SYNs; one on a source port would turn the RSTs into TCP_RESET
// drops. Either would break the count.
func listening() (map[uint16]bool, error) {
	ports := map[uint16]bool{}
	for _, name := range []string{"/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"} {
		data, err := os.ReadFile(name)
		if os.IsNotExist(err) && name != "/proc/thread-self/net/tcp" {
			continue // IPv6 disabled
		}
		if err != nil {
			return nil, fmt.Errorf("dropgen: listeners: %w", err)
		}
		if err := parseListeners(data, ports); err != nil {
			return nil, fmt.Errorf("dropgen: %s: %w", name, err)
		}
	}
	return ports, nil
}

// parseListeners adds to ports the local ports of lines in state 0A (LISTEN)
// of a /proc/net/tcp{,6} table: "sl local_address rem_address st ...".
func parseListeners(data []byte, ports map[uint16]bool) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		if first { // column titles
			first = false
			continue
		}
		f := bytes.Fields(sc.Bytes())
		if len(f) < 4 || string(f[3]) != "0A" {
			continue
		}
		local := f[1]
		i := bytes.LastIndexByte(local, ':')
		if i < 0 {
			return fmt.Errorf("bad local address %q", local)
		}
		port, err := strconv.ParseUint(string(local[i+1:]), 16, 16)
		if err != nil {
			return fmt.Errorf("bad local port %q", local)
		}
		ports[uint16(port)] = true
	}
	return sc.Err()
}

// sourcePorts lists the source ports to cycle through: 1024-65535 minus the
// destination port and every port with a listener.
func sourcePorts(dport int, busy map[uint16]bool) []uint16 {
	ports := make([]uint16, 0, 65536-1024)
	for p := 1024; p <= 65535; p++ {
		if p != dport && !busy[uint16(p)] {
			ports = append(ports, uint16(p))
		}
	}
	return ports
}
