package envtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// FaultProxy is an HTTP reverse proxy in front of the API server that
// injects faults: a client built from its Config reaches the API server
// through it, and each request is first shown to the Rule, which may
// answer it with an error status, reset its connection, delay it or hold
// it, instead of (or before) forwarding it. The clients' own retries,
// rate limiting and watches run unchanged, against real answers.
type FaultProxy struct {
	server *httptest.Server
	proxy  *httputil.ReverseProxy

	mu       sync.Mutex
	rule     Rule
	observe  func(Request, int)
	seen     map[Request]int
	faulted  map[Request]int
	released chan struct{}
}

// Request is what a Rule knows of a request: its method and the API path's
// parts. Resource is the plural ("virtualservices"), Group "" for the core
// group; Name, Namespace and Subresource are empty when the path has none.
type Request struct {
	Method      string
	Group       string
	Resource    string
	Namespace   string
	Name        string
	Subresource string
	Watch       bool
}

// Write reports whether r asks to change something: POST, PUT, PATCH or
// DELETE.
func (r Request) Write() bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Fault is what the proxy does with a request; the zero Fault forwards it.
type Fault struct {
	// Status, when not 0, answers with this HTTP status and a
	// metav1.Status body of the matching reason, as the API server does.
	Status int
	// RetryAfter, with Status, sets the Retry-After header (seconds).
	RetryAfter int
	// Reset closes the connection without an answer (a TCP reset).
	Reset bool
	// Delay waits this long before doing the rest.
	Delay time.Duration
	// Hold keeps the request unanswered until the client gives up or
	// Release is called, then forwards it.
	Hold bool
	// Lag holds back each part of the answer this long: a watch's events
	// arrive late, as from a lagging cache.
	Lag time.Duration
	// Before, when not nil, is called with the request body before the
	// request is forwarded: to race it with another writer.
	Before func(body []byte)
}

// Rule decides the Fault for a request.
type Rule func(Request) Fault

// StartFaultProxy starts a proxy to the API server of cfg, forwarding
// everything until SetRule says otherwise. It is plain HTTP on 127.0.0.1;
// its Config needs no credentials, since the proxy authenticates to the
// API server with cfg's.
func StartFaultProxy(cfg *rest.Config) (*FaultProxy, error) {
	target, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, err
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{seen: map[Request]int{}, faulted: map[Request]int{}, released: make(chan struct{})}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		Transport:     transport,
		FlushInterval: -1, // watches stream
		ModifyResponse: func(resp *http.Response) error {
			p.mu.Lock()
			observe := p.observe
			p.mu.Unlock()
			if observe != nil {
				observe(parse(resp.Request), resp.StatusCode)
			}
			return nil
		},
	}
	p.server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p, nil
}

// Config is a client configuration that reaches the API server through the
// proxy, without a client-side rate limit (as `ingressguard serve` runs).
func (p *FaultProxy) Config() *rest.Config {
	return &rest.Config{Host: p.server.URL, QPS: -1}
}

// SetRule makes rule decide every request from now on; nil forwards all.
func (p *FaultProxy) SetRule(rule Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = rule
}

// Observe calls f with each forwarded request and the status of the API
// server's answer, as the answer arrives; nil stops it. f must be quick
// and safe for concurrent calls.
func (p *FaultProxy) Observe(f func(Request, int)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observe = f
}

// Release forwards every request held so far and lets later Hold faults
// through at once.
func (p *FaultProxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.released:
	default:
		close(p.released)
	}
}

// Seen is how many requests for which match returns true arrived so far,
// faulted or not.
func (p *FaultProxy) Seen(match func(Request) bool) int {
	return p.count(p.seen, match)
}

// Faulted is how many requests for which match returns true were answered
// with a Status or a reset.
func (p *FaultProxy) Faulted(match func(Request) bool) int {
	return p.count(p.faulted, match)
}

func (p *FaultProxy) count(m map[Request]int, match func(Request) bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for r, c := range m {
		if match(r) {
			n += c
		}
	}
	return n
}

// Close cuts every connection through the proxy and stops it.
func (p *FaultProxy) Close() {
	p.Release()
	p.server.CloseClientConnections()
	p.server.Close()
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	req := parse(r)
	p.mu.Lock()
	p.seen[req]++
	var f Fault
	if p.rule != nil {
		f = p.rule(req)
	}
	if f.Status != 0 || f.Reset {
		p.faulted[req]++
	}
	released := p.released
	p.mu.Unlock()

	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if f.Hold {
		select {
		case <-released:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case f.Reset:
		reset(w)
	case f.Status != 0:
		answer(w, f)
	default:
		if f.Before != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			f.Before(body)
		}
		if f.Lag > 0 {
			w = &lagging{ResponseWriter: w, lag: f.Lag}
		}
		p.proxy.ServeHTTP(w, r)
	}
}

// lagging holds back each write to the ResponseWriter by lag.
type lagging struct {
	http.ResponseWriter
	lag time.Duration
}

func (l *lagging) Write(b []byte) (int, error) {
	time.Sleep(l.lag)
	return l.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the flusher underneath.
func (l *lagging) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// reset closes the client's connection with a TCP reset.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	conn.Close()
}

// answer writes f's status with a metav1.Status body, so that clients see
// the error the API server would give (apierrors.IsConflict and so on).
func answer(w http.ResponseWriter, f Fault) {
	reasons := map[int]metav1.StatusReason{
		http.StatusConflict:            metav1.StatusReasonConflict,
		http.StatusTooManyRequests:     metav1.StatusReasonTooManyRequests,
		http.StatusInternalServerError: metav1.StatusReasonInternalError,
		http.StatusServiceUnavailable:  metav1.StatusReasonServiceUnavailable,
		http.StatusGatewayTimeout:      metav1.StatusReasonTimeout,
	}
	status := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Code:     int32(f.Status),
		Reason:   reasons[f.Status],
		Message:  "injected fault: " + http.StatusText(f.Status),
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		status.Details = &metav1.StatusDetails{RetryAfterSeconds: int32(f.RetryAfter)}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(&status)
}

// parse reads the API path of r: /api/v1/... or /apis/GROUP/VERSION/...,
// then watch/ (the old form of ?watch=true), namespaces/NS/, RESOURCE,
// NAME and SUBRESOURCE.
func parse(r *http.Request) Request {
	req := Request{Method: r.Method, Watch: r.URL.Query().Get("watch") == "true"}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		req.Group, segs = segs[1], segs[3:]
	default:
		return req
	}
	if len(segs) > 0 && segs[0] == "watch" {
		req.Watch, segs = true, segs[1:]
	}
	if len(segs) >= 3 && segs[0] == "namespaces" && segs[2] != "status" && segs[2] != "finalize" {
		req.Namespace, segs = segs[1], segs[2:]
	}
	for i, s := range []*string{&req.Resource, &req.Name, &req.Subresource} {
		if i < len(segs) {
			*s = segs[i]
		}
	}
	return req
}
