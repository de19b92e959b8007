package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// run is one measurement: count requests at a fixed concurrency.
type run struct {
	Requests    int
	Concurrency int
	Seconds     float64
	// PerSecond is Requests over the wall time of the measurement.
	PerSecond float64
	// Latencies of single requests, in milliseconds.
	P50, P90, P99, Max float64
	// CPUPerRequest is the CPU time, in microseconds, that the webhook
	// process (serve or floor) used per request; 0 when there is none.
	CPUPerRequest float64
	// APIServerCPUPerRequest is the same for kube-apiserver (API-server
	// measurements only).
	APIServerCPUPerRequest float64 `json:",omitempty"`
}

// summarize turns latencies into a run.
func summarize(lat []time.Duration, c int, wall time.Duration) run {
	slices.Sort(lat)
	q := func(p float64) float64 {
		i := int(p*float64(len(lat))+0.5) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i]) / float64(time.Millisecond)
	}
	return run{
		Requests: len(lat), Concurrency: c, Seconds: wall.Seconds(),
		PerSecond: float64(len(lat)) / wall.Seconds(),
		P50:       q(0.50), P90: q(0.90), P99: q(0.99), Max: q(1),
	}
}

// cpuMeter measures the CPU time processes use during a measurement.
type cpuMeter struct {
	pids  []int
	start []time.Duration
}

func meter(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids, start: make([]time.Duration, len(pids))}
	for i, pid := range pids {
		if pid != 0 {
			m.start[i], _ = pidCPU(pid)
		}
	}
	return m
}

// perRequest returns, per process, the CPU used since meter in
// microseconds per request.
func (m *cpuMeter) perRequest(requests int) []float64 {
	out := make([]float64, len(m.pids))
	for i, pid := range m.pids {
		if pid == 0 {
			continue
		}
		if end, err := pidCPU(pid); err == nil {
			out[i] = float64(end-m.start[i]) / float64(time.Microsecond) / float64(requests)
		}
	}
	return out
}

// fire sends count requests from c workers, each request i made by do(i),
// after warm requests that are not measured.
func fire(ctx context.Context, c, count, warm int, do func(ctx context.Context, worker, i int) error) ([]time.Duration, time.Duration, error) {
	shoot := func(n int, lat []time.Duration) error {
		var next atomic.Int64
		var first error
		var once sync.Once
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var wg sync.WaitGroup
		for w := range c {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= n || ctx.Err() != nil {
						return
					}
					t0 := time.Now()
					err := do(ctx, w, i)
					if lat != nil {
						lat[i] = time.Since(t0)
					}
					if err != nil {
						once.Do(func() { first = err; cancel() })
						return
					}
				}
			})
		}
		wg.Wait()
		if first != nil {
			return first
		}
		return ctx.Err()
	}
	if err := shoot(warm, nil); err != nil {
		return nil, 0, fmt.Errorf("warming up: %w", err)
	}
	lat := make([]time.Duration, count)
	defer quietClient()()
	t0 := time.Now()
	err := shoot(count, lat)
	return lat, time.Since(t0), err
}

// quietClient keeps the load program's own garbage collector out of a
// measurement: it collects, then turns collection off until the returned
// function turns it back on. A client collection in the middle of a run
// (this process holds the tracker's cache and more, tens of MiB) delays
// the requests of its workers and would be counted as the webhook's
// latency, on whichever webhook was measured at that moment. A run of
// 30,000 requests allocates a few hundred MiB, which the collection after
// it frees.
func quietClient() (restore func()) {
	runtime.GC()
	old := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(old)
		runtime.GC()
	}
}

// direct posts AdmissionReviews to a webhook over HTTPS with keep-alive,
// as the API server does: TLS 1.2 or later, HTTP/1.1, one connection per
// worker.
type direct struct {
	ca []byte
}

func (d direct) client(c int) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(d.ca) {
		return nil, errors.New("no CA certificate for the webhooks")
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
			TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
			MaxIdleConns:        c,
			MaxIdleConnsPerHost: c,
			MaxConnsPerHost:     c,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		},
	}, nil
}

var allowed = []byte(`"allowed":true`)

// measure sends count reviews from bodies to url at concurrency c; pid is
// the webhook process, for its CPU time.
func (d direct) measure(ctx context.Context, url string, bodies [][]byte, c, count, pid int) (run, error) {
	hc, err := d.client(c)
	if err != nil {
		return run{}, err
	}
	defer hc.CloseIdleConnections()
	bufs := make([]bytes.Buffer, c)
	post := func(ctx context.Context, w, i int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		buf := &bufs[w]
		buf.Reset()
		_, err = io.Copy(buf, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Contains(buf.Bytes(), allowed) {
			return fmt.Errorf("%s answered %s: %.500s", url, resp.Status, buf.Bytes())
		}
		return nil
	}
	m := meter(pid)
	lat, wall, err := fire(ctx, c, count, max(200, 8*c), post)
	if err != nil {
		return run{}, err
	}
	r := summarize(lat, c, wall)
	r.CPUPerRequest = m.perRequest(count)[0]
	return r, nil
}

// throughAPI creates Ingresses with dryRun=All through the API server, which
// calls the webhooks that the Ingresses' label selects.
type throughAPI struct {
	cs *kubernetes.Clientset
}

func (a throughAPI) measure(ctx context.Context, ings []*networkingv1.Ingress, c, count, pid, apiPID int) (run, error) {
	opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "kubectl-client-side-apply"}
	create := func(ctx context.Context, _, i int) error {
		ing := ings[i%len(ings)]
		_, err := a.cs.NetworkingV1().Ingresses(ing.Namespace).Create(ctx, ing, opts)
		return err
	}
	m := meter(pid, apiPID)
	lat, wall, err := fire(ctx, c, count, max(50, 4*c), create)
	if err != nil {
		return run{}, err
	}
	r := summarize(lat, c, wall)
	cpu := m.perRequest(count)
	r.CPUPerRequest, r.APIServerCPUPerRequest = cpu[0], cpu[1]
	return r, nil
}
