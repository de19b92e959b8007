package webhook

import (
	"slices"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// newWebhook serves an admission handler as `ingressguard serve` does.
func newWebhook(h admission.Handler) *admission.Webhook {
	return &admission.Webhook{Handler: h, LogConstructor: lazyLogConstructor}
}

// lazyLogConstructor is admission.DefaultLogConstructor, whose logger
// carries the request's object, namespace, name, resource, user and ID,
// except that these values are handed to the real logger only when a
// message is logged. The default hands them over for every request, and
// zap encodes them right away, which cost about a tenth of an admission
// (BenchmarkReview) while a request at the default level logs nothing.
// What is logged is the same.
func lazyLogConstructor(base logr.Logger, req *admission.Request) logr.Logger {
	if base.GetSink() == nil {
		return admission.DefaultLogConstructor(base, req)
	}
	return admission.DefaultLogConstructor(logr.New(&lazySink{base: base.GetSink()}).V(base.GetV()), req)
}

// lazySink keeps WithValues pairs until a message is logged.
type lazySink struct {
	base   logr.LogSink
	values []any
	depth  int // call depth added with WithCallDepth
}

var (
	_ logr.CallDepthLogSink       = (*lazySink)(nil)
	_ logr.CallStackHelperLogSink = (*lazySink)(nil)
)

// Init does nothing: base was initialized when its logger was made.
func (s *lazySink) Init(logr.RuntimeInfo) {}

func (s *lazySink) Enabled(level int) bool { return s.base.Enabled(level) }

func (s *lazySink) Info(level int, msg string, keysAndValues ...any) {
	s.sink().Info(level, msg, keysAndValues...)
}

func (s *lazySink) Error(err error, msg string, keysAndValues ...any) {
	s.sink().Error(err, msg, keysAndValues...)
}

func (s *lazySink) WithValues(keysAndValues ...any) logr.LogSink {
	return &lazySink{base: s.base, values: append(slices.Clip(s.values), keysAndValues...), depth: s.depth}
}

func (s *lazySink) WithName(name string) logr.LogSink {
	return &lazySink{base: s.base.WithName(name), values: s.values, depth: s.depth}
}

func (s *lazySink) WithCallDepth(depth int) logr.LogSink {
	return &lazySink{base: s.base, values: s.values, depth: s.depth + depth}
}

func (s *lazySink) GetCallStackHelper() func() {
	if h, ok := s.base.(logr.CallStackHelperLogSink); ok {
		return h.GetCallStackHelper()
	}
	return func() {}
}

// sink is base with the values, one frame deeper for this sink's method.
func (s *lazySink) sink() logr.LogSink {
	b := s.base
	if len(s.values) > 0 {
		b = b.WithValues(s.values...)
	}
	if cd, ok := b.(logr.CallDepthLogSink); ok {
		b = cd.WithCallDepth(1 + s.depth)
	}
	return b
}
