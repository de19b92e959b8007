package webhook

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Bounds on what requests may hold, so that a client that reaches the
// webhook port cannot make the webhooks stop answering (they fail closed:
// while they do not answer, Ingress writes stop).
const (
	// ReadTimeout is how long a request has to send its body: the API
	// server sends a review at once, and gives up on a webhook after its
	// timeoutSeconds (10 s by default, 30 s at most) anyway.
	ReadTimeout = 10 * time.Second
	// MaxBytesInFlight bounds the bodies being read or decoded at once, by
	// their declared length (MaxRequestBytes when not declared). A request
	// that would go over it is answered 429 with Retry-After, which the API
	// server retries.
	MaxBytesInFlight = 48 << 20
	// largeBody is the size from which a body counts as large: large
	// bodies together may take at most three quarters of MaxBytesInFlight,
	// so that a flood of them never leaves no room for ordinary reviews,
	// which are a few KiB.
	largeBody = 1 << 20
)

// gate accounts for the bytes of the bodies in flight, and lets one large
// body at a time be decoded and judged. Both webhooks share one, as they
// share the process's memory and CPUs.
type gate struct {
	limit       int64         // MaxBytesInFlight
	readTimeout time.Duration // ReadTimeout
	// large holds a token while a large body is decoded and judged: the
	// CPU time of that grows with the body (under test/load's hostile
	// tenant, a review of 16,000 paths took about a quarter of a CPU
	// second with the collections it caused), and two at a time took both
	// CPUs of a 2-CPU webhook from the ordinary reviews (their p99: 70 ms
	// then, 51 to 52 ms one at a time; README, Performance).
	large chan struct{}

	mu   sync.Mutex
	used int64
}

// acquire reserves n bytes, or reports that it cannot.
func (g *gate) acquire(n int64) bool {
	limit := g.limit
	if n >= largeBody {
		limit = g.limit / 4 * 3
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.used+n > limit {
		return false
	}
	g.used += n
	return true
}

// newGate returns a gate of limit bytes and the given read timeout.
func newGate(limit int64, readTimeout time.Duration) *gate {
	return &gate{limit: limit, readTimeout: readTimeout, large: make(chan struct{}, 1)}
}

// turn waits, for a body of n bytes that has been read, until it may be
// decoded and judged: a small body at once, a large one when no other
// large body is; done ends the turn. ok is false if ctx ended first.
func (g *gate) turn(ctx context.Context, n int) (done func(), ok bool) {
	if n < largeBody {
		return func() {}, true
	}
	select {
	case g.large <- struct{}{}:
		return func() { <-g.large }, true
	case <-ctx.Done():
		return nil, false
	}
}

// release returns n bytes that acquire reserved.
func (g *gate) release(n int64) {
	g.mu.Lock()
	g.used -= n
	g.mu.Unlock()
}

// admit checks what can be checked of r before its body is read, and
// reserves room for the body. It returns the bytes reserved, to release,
// or the refusal, after which r's body is never read: the answer closes
// the connection instead, so that an unread body cannot hold it.
func (g *gate) admit(w http.ResponseWriter, r *http.Request) (int64, *refusal) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		return 0, &refusal{http.StatusBadRequest, reasonBadReview, "contentType=" + ct + ", expected application/json"}
	}
	if r.ContentLength > MaxRequestBytes {
		return 0, &refusal{http.StatusRequestEntityTooLarge, reasonBadReview, tooLarge}
	}
	n := r.ContentLength
	if n < 0 {
		n = MaxRequestBytes // not declared: as much as read may take
	}
	if !g.acquire(n) {
		return 0, &refusal{http.StatusTooManyRequests, reasonBusy, "too many request bytes in flight; retry"}
	}
	// The deadline covers the body; the server's ReadHeaderTimeout covered
	// the headers. A body that has not arrived by then fails the read.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(g.readTimeout))
	return n, nil
}
