package main

import (
	"io"
	"sync"
	"time"
)

// logWatch tells when ingressguard last wrote a log line, so that the
// usage text is printed once its start-up logs have settled rather than
// scrolled away by them.
type logWatch struct {
	mu   sync.Mutex
	last time.Time
}

// writer returns a writer to w that records the time of each write. It
// never fails: should the terminal go away, ingressguard must not block on
// a full pipe while it is being stopped.
func (l *logWatch) writer(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		l.last = time.Now()
		l.mu.Unlock()
		_, _ = w.Write(p)
		return len(p), nil
	})
}

// waitQuiet returns once nothing was written for quiet, or after max.
func (l *logWatch) waitQuiet(quiet, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		idle := time.Since(l.last)
		l.mu.Unlock()
		if idle >= quiet {
			return
		}
		time.Sleep(quiet - idle)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
