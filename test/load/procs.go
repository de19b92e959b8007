package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// proc is a child process: the floor webhook or an `ingressguard serve`.
type proc struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error // set when done is closed
	logPath string
	// Loopback addresses of serve's endpoints (empty for the floor).
	metricsAddr, healthAddr, debugAddr string
}

// startProc starts bin with args, its stdout and stderr going to logPath.
func startProc(name, logPath, bin string, args, env []string) (*proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, started: time.Now(), done: make(chan struct{}), logPath: logPath}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM and waits, killing the process after 30 s.
func (p *proc) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30 s of SIGTERM; killed", p.name)
	}
}

// exited reports why the process is gone, or nil while it runs.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v); last lines of its log:\n%s", p.name, p.err, tail(p.logPath, 20))
	default:
		return nil
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// local talks to serve's plain-HTTP endpoints on loopback, without
// compression: a gzip writer per scrape of /metrics would add to the very
// memory of serve that is measured.
var local = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}

// waitFor polls cond every 200 ms until it holds, the process exits, ctx
// ends or bound passes. (Conditions that scrape /metrics cost serve some
// memory and CPU each time, so not more often.)
func (p *proc) waitFor(ctx context.Context, what string, bound time.Duration, cond func() bool) error {
	deadline := time.Now().Add(bound)
	for {
		if cond() {
			return nil
		}
		if err := p.exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not %s after %v", p.name, what, bound)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitTLS waits until addr accepts TLS connections.
func (p *proc) waitTLS(ctx context.Context, addr string) error {
	return p.waitFor(ctx, "serving TLS on "+addr, time.Minute, func() bool {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
}

// waitReady waits until serve's /readyz answers 200: the webhook server is
// up and the cache holds the cluster state.
func (p *proc) waitReady(ctx context.Context) error {
	return p.waitFor(ctx, "ready", 3*time.Minute, func() bool {
		resp, err := local.Get("http://" + p.healthAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// metrics scrapes serve's /metrics.
func (p *proc) metrics() (map[string]*dto.MetricFamily, error) {
	resp, err := local.Get("http://" + p.metricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// sum adds the values of the counters or gauges of a family whose labels
// satisfy keep (nil: all).
func sum(families map[string]*dto.MetricFamily, name string, keep func(map[string]string) bool) float64 {
	total := 0.0
	for _, m := range families[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if keep != nil && !keep(labels) {
			continue
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return total
}

// writeMethods are the HTTP methods of API calls that change something.
var writeMethods = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// progress is what serve's reconcilers have done, from its /metrics.
type progress struct {
	// Writes counts every API request that changes something (create,
	// update, patch, delete; status and events included), from client-go's
	// rest_client_requests_total.
	Writes float64
	// Reads counts the other API requests: gets, lists and watches.
	Reads float64
	// Reconciles counts reconciles per controller.
	Reconciles map[string]float64
	// Queued is the depth of the controllers' work queues.
	Queued float64
}

func (p *proc) progress() (progress, error) {
	fams, err := p.metrics()
	if err != nil {
		return progress{}, err
	}
	pr := progress{Reconciles: map[string]float64{}}
	pr.Writes = sum(fams, "rest_client_requests_total", func(l map[string]string) bool { return writeMethods[l["method"]] })
	pr.Reads = sum(fams, "rest_client_requests_total", func(l map[string]string) bool { return !writeMethods[l["method"]] })
	for _, c := range []string{"ingresses", "hosts"} {
		pr.Reconciles[c] = sum(fams, "controller_runtime_reconcile_total", func(l map[string]string) bool { return l["controller"] == c })
		pr.Queued += sum(fams, "workqueue_depth", func(l map[string]string) bool { return l["name"] == c })
	}
	return pr, nil
}

// memStats is the Go memory of serve after a garbage collection.
type memStats struct {
	// HeapAlloc is the live heap: bytes of reachable objects.
	HeapAlloc uint64
	// HeapInuse counts the heap spans in use, fragmentation included.
	HeapInuse uint64
	// Sys is all the memory the Go runtime obtained from the OS.
	Sys   uint64
	NumGC uint32
}

// heap asks serve to collect garbage and reads its Go memory statistics
// from the text heap profile, which ends with runtime.MemStats.
func (p *proc) heap() (memStats, error) {
	var m memStats
	b, err := p.pprof("/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return m, err
	}
	fields := map[string]any{"HeapAlloc": &m.HeapAlloc, "HeapInuse": &m.HeapInuse, "Sys": &m.Sys, "NumGC": &m.NumGC}
	for line := range bytes.Lines(b) {
		name, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(string(line), "# ")), " = ")
		if f, known := fields[name]; ok && known {
			if _, err := fmt.Sscan(value, f); err != nil {
				return m, fmt.Errorf("heap profile line %q: %w", line, err)
			}
			delete(fields, name)
		}
	}
	if len(fields) > 0 {
		return m, fmt.Errorf("serve's heap profile lacks %d of its memory statistics", len(fields))
	}
	return m, nil
}

// heapProfile writes serve's heap profile, after a garbage collection.
func (p *proc) heapProfile(file string) error {
	b, err := p.pprof("/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// cpuProfile profiles serve's CPU for the given seconds, in the background;
// the returned function waits for the profile and writes it to file.
func (p *proc) cpuProfile(file string, seconds int) func() error {
	done := make(chan error, 1)
	go func() {
		b, err := p.pprof(fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, seconds)))
		if err == nil {
			err = os.WriteFile(file, b, 0o644)
		}
		done <- err
	}()
	return func() error { return <-done }
}

// pprof reads one of serve's /debug/pprof endpoints.
func (p *proc) pprof(path string) ([]byte, error) {
	resp, err := local.Get("http://" + p.debugAddr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s: %s", path, resp.Status, b[:min(len(b), 4096)])
	}
	return b, err
}

// memory reads a process's peak and current resident set size from /proc.
func (p *proc) memory() (peak, now int64, err error) { return pidMemory(p.cmd.Process.Pid) }

// statusField reads a "Name:   123 kB" line of /proc/PID/status in bytes.
func statusField(status []byte, name string) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(name+":"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", name, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb << 10, err
	}
	return 0, errors.New("no " + name + " in /proc status")
}

// freePort returns a loopback port nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freeAddr() (string, error) {
	port, err := freePort()
	return fmt.Sprintf("127.0.0.1:%d", port), err
}
