// Package lazylog wraps a logr.Logger so that values attached with
// WithValues are handed to the real logger only when a message is logged.
//
// controller-runtime gives every admission request and every reconcile a
// logger carrying its identity (object, namespace, name, user, request or
// reconcile ID). zap encodes those values as soon as WithValues is called,
// which cost about a tenth of an admission and about 5 KiB of garbage per
// reconcile, while at the default level nearly none of them logs anything.
// What is logged is the same.
package lazylog

import (
	"slices"

	"github.com/go-logr/logr"
)

// New returns base with WithValues deferred until a message is logged.
func New(base logr.Logger) logr.Logger {
	if base.GetSink() == nil {
		return base
	}
	return logr.New(&sink{base: base.GetSink()}).V(base.GetV())
}

// Deferred returns base with the pairs that values returns attached, as
// base.WithValues(values()...) would, except that values is called only
// when a message is logged (once per message). values must be safe to call
// as long as the logger is used.
func Deferred(base logr.Logger, values func() []any) logr.Logger {
	if base.GetSink() == nil {
		return base
	}
	return logr.New(&sink{base: base.GetSink(), deferred: values}).V(base.GetV())
}

// sink keeps WithValues pairs until a message is logged.
type sink struct {
	base     logr.LogSink
	deferred func() []any // pairs attached before values, if not nil
	values   []any
	depth    int // call depth added with WithCallDepth
}

var (
	_ logr.CallDepthLogSink       = (*sink)(nil)
	_ logr.CallStackHelperLogSink = (*sink)(nil)
)

// Init does nothing: base was initialized when its logger was made.
func (s *sink) Init(logr.RuntimeInfo) {}

func (s *sink) Enabled(level int) bool { return s.base.Enabled(level) }

func (s *sink) Info(level int, msg string, keysAndValues ...any) {
	s.sink().Info(level, msg, keysAndValues...)
}

func (s *sink) Error(err error, msg string, keysAndValues ...any) {
	s.sink().Error(err, msg, keysAndValues...)
}

func (s *sink) WithValues(keysAndValues ...any) logr.LogSink {
	return &sink{base: s.base, deferred: s.deferred, values: append(slices.Clip(s.values), keysAndValues...), depth: s.depth}
}

func (s *sink) WithName(name string) logr.LogSink {
	return &sink{base: s.base.WithName(name), deferred: s.deferred, values: s.values, depth: s.depth}
}

func (s *sink) WithCallDepth(depth int) logr.LogSink {
	return &sink{base: s.base, deferred: s.deferred, values: s.values, depth: s.depth + depth}
}

func (s *sink) GetCallStackHelper() func() {
	if h, ok := s.base.(logr.CallStackHelperLogSink); ok {
		return h.GetCallStackHelper()
	}
	return func() {}
}

// sink is base with the values, one frame deeper for this sink's method.
func (s *sink) sink() logr.LogSink {
	b := s.base
	if s.deferred != nil {
		b = b.WithValues(s.deferred()...)
	}
	if len(s.values) > 0 {
		b = b.WithValues(s.values...)
	}
	if cd, ok := b.(logr.CallDepthLogSink); ok {
		b = cd.WithCallDepth(1 + s.depth)
	}
	return b
}
