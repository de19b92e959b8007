package lazylog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-logr/logr"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ingressguard/ingressguard/internal/lazylog"
)

// logAll logs through wrap(base) as the webhooks and reconcilers do; both
// loggers are made and called from here, so the caller is the same line.
func logAll(wrap func(logr.Logger) logr.Logger, base logr.Logger) {
	l := wrap(base).WithValues("object", map[string]string{"name": "web", "namespace": "team-a"}, "uid", "uid-1").WithValues("user", "alice")
	l.Info("decision", "result", "allowed", "warnings", 2)
	l.V(1).Info("debug", "reason", "valid")
	l.V(5).Info("hidden")
	l.Error(errors.New("boom"), "failed", "code", 500)
	l.WithValues("extra", true).WithName("child").V(1).Info("chained")
	l.WithCallDepth(0).Info("depth")
	wrap(base).Info("no values")
}

// lines decodes JSON log lines, dropping the timestamp.
func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(b)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		delete(m, "ts")
		out = append(out, m)
	}
	return out
}

// TestSameLines: a lazy logger logs exactly what its base logs, values,
// names, levels, errors and caller included.
func TestSameLines(t *testing.T) {
	calls := 0
	request := func() []any {
		calls++
		return []any{"requestID", "r-1", "resource", map[string]string{"resource": "ingresses"}}
	}
	for _, tc := range []struct {
		name       string
		base, lazy func(logr.Logger) logr.Logger
	}{
		{"New", func(l logr.Logger) logr.Logger { return l }, lazylog.New},
		{"Deferred", func(l logr.Logger) logr.Logger { return l.WithValues(request()...) },
			func(l logr.Logger) logr.Logger { return lazylog.Deferred(l, request) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out [2]bytes.Buffer
			for i, wrap := range []func(logr.Logger) logr.Logger{tc.base, tc.lazy} {
				base := zap.New(zap.WriteTo(&out[i]), zap.Level(zapcore.Level(-1)), zap.RawZapOpts(uberzap.AddCaller())).WithName("admission")
				calls = 0
				logAll(wrap, base) // one line for both, as stack traces show it
			}
			w, g := lines(t, &out[0]), lines(t, &out[1])
			if len(w) != 6 {
				t.Fatalf("the base logger logged %d lines, want 6: %v", len(w), w)
			}
			if len(g) != len(w) {
				t.Fatalf("lazy logged %d lines, base %d:\n%v\n%v", len(g), len(w), g, w)
			}
			for i := range w {
				wj, _ := json.Marshal(w[i])
				gj, _ := json.Marshal(g[i])
				if !bytes.Equal(wj, gj) {
					t.Errorf("line %d:\n got %s\nwant %s", i, gj, wj)
				}
			}
			// Deferred values are made for the lines logged only, not for
			// the hidden V(5) one.
			if tc.name == "Deferred" && calls != len(w) {
				t.Errorf("the values were made %d times for %d lines", calls, len(w))
			}
		})
	}
}

// TestNoSink: a logger without a sink stays as it is.
func TestNoSink(t *testing.T) {
	if l := lazylog.New(logr.Discard()); l.GetSink() != nil {
		t.Errorf("Discard() became a logger with sink %T", l.GetSink())
	}
}
