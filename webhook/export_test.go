package webhook

import (
	"net/http"
	"time"

	"github.com/ingressguard/ingressguard/convert"
)

// GatedValidator is the validating handler with a gate of its own, of the
// default byte limit and the given read timeout, and a function that says
// how many bytes the gate holds.
func GatedValidator(c convert.View, readTimeout time.Duration) (http.Handler, func() int64) {
	g := newGate(MaxBytesInFlight, readTimeout)
	return newReviewHandler(webhookValidate, NewValidator(convert.DefaultSettings(), c), g), func() int64 {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.used
	}
}
