// SPDX-License-Identifier: Apache-2.0

package backends

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	readyTimeout = 2 * time.Minute // Prometheus replays its WAL; on a busy machine, slowly
	stopTimeout  = 30 * time.Second
)

// process is a backend's server process, in a process group of its own so
// that stop can check that nothing it started is left running.
type process struct {
	name string
	dir  string // its own temporary directory: data, config, log
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
	err  error         // cmd.Wait's, once done is closed
}

// start runs bin in dir (which it takes over: stop removes it) with the
// arguments args makes for a free loopback port, and waits until GET
// readyPath answers 200. A port taken in the meantime by someone else is
// tried again with another.
func start(name, dir, bin string, args func(port int) []string, readyPath string) (*process, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p, err := spawn(name, dir, bin, port, args(port))
		if err != nil {
			return nil, err
		}
		if err = p.waitReady(readyPath); err == nil {
			return p, nil
		}
		lastErr = err
		p.kill()
		if !strings.Contains(p.logTail(), "address already in use") {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func spawn(name, dir, bin string, port int, args []string) (*process, error) {
	log, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group; killed if the test binary dies first (a
	// timeout's panic runs no cleanup).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &process{name: name, dir: dir, port: port, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// freePort is a loopback port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until the process listens on its port, then until GET
// path answers 200. It never connects before the port is listened on: a
// SYN to a closed port is a drop, which would count in the tests' totals.
func (p *process) waitReady(path string) error {
	deadline := time.Now().Add(readyTimeout)
	client := &http.Client{Timeout: 5 * time.Second}
	listening := false
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%w):\n%s", p.name, p.err, p.logTail())
		default:
		}
		if !listening {
			listening = isListening(p.port)
		}
		if listening {
			resp, err := client.Get(p.url() + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready on port %d within %v:\n%s", p.name, p.port, readyTimeout, p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *process) url() string { return fmt.Sprintf("http://127.0.0.1:%d", p.port) }

// isListening reports whether a TCP socket of this network namespace
// listens on 127.0.0.1:port (the kernel's table, /proc/net/tcp).
func isListening(port int) bool {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	local := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == local && f[3] == "0A" { // TCP_LISTEN
			return true
		}
	}
	return false
}

// stop asks the process to exit (SIGTERM), kills it if it has not within
// stopTimeout, checks that nothing of its process group is left, and
// removes its directory. Any of those going wrong is an error.
func (p *process) stop() error {
	var errs []error
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			errs = append(errs, fmt.Errorf("%s exited with %w after SIGTERM:\n%s", p.name, p.err, p.logTail()))
		}
	case <-time.After(stopTimeout):
		errs = append(errs, fmt.Errorf("%s did not exit within %v of SIGTERM: killed", p.name, stopTimeout))
		p.kill()
	}
	if err := p.leftovers(); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(p.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// kill ends the process group at once and waits for the process.
func (p *process) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// leftovers is an error if a process of the group is still running (the
// group's leader has exited and been reaped; its children would remain).
func (p *process) leftovers() error {
	err := syscall.Kill(-p.cmd.Process.Pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	return fmt.Errorf("%s: processes of its group %d were still running (killed): %w", p.name, p.cmd.Process.Pid, err)
}

// logTail is the end of the process's output, for errors.
func (p *process) logTail() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, p.name+".log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
