package controller

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TestTooLargeErrors: the refusals a kube-apiserver with its default limits
// answered for a VirtualService of 1.6 MB, 2 MB and 4 MB count as too
// large, and other errors do not.
func TestTooLargeErrors(t *testing.T) {
	status := func(code int32, reason metav1.StatusReason, msg string) error {
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg}}
	}
	vs := schema.GroupResource{Group: "networking.istio.io", Resource: "virtualservices"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"etcd's limit (1.5 MiB)", status(http.StatusInternalServerError, "", "etcdserver: request is too large"), true},
		{"the etcd client's limit (2 MiB)", status(http.StatusInternalServerError, "", "rpc error: code = ResourceExhausted desc = trying to send message larger than max (2170189 vs. 2097152)"), true},
		{"the request body limit (3 MiB)", status(http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, "Request entity too large: limit is 3145728"), true},
		{"wrapped", fmt.Errorf("creating: %w", status(http.StatusInternalServerError, "", "etcdserver: request is too large")), true},
		{"another internal error", apierrors.NewInternalError(fmt.Errorf("etcdserver: leader changed")), false},
		{"a conflict", apierrors.NewConflict(vs, "x", fmt.Errorf("the object has been modified")), false},
		{"no error", nil, false},
	} {
		if got := tooLarge(tc.err); got != tc.want {
			t.Errorf("%s: tooLarge(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestRetryDelayIsCapped: a key that keeps failing, as every key does
// through a long write outage, is tried again at least once a minute, so the reconciler catches up within that time once the
// API server takes writes again (controller-runtime's default would wait
// up to 1,000 s).
func TestRetryDelayIsCapped(t *testing.T) {
	rl := retries()
	key := reconcile.Request{NamespacedName: types.NamespacedName{Name: "www.example.com"}}
	var last time.Duration
	for range 40 { // 5 ms doubled 40 times is far past any cap
		last = rl.When(key)
	}
	if last > time.Minute || last < 10*time.Second {
		t.Errorf("after 40 failures a key waits %s; want between 10 s (no retry storm) and a minute (catch up soon after an outage)", last)
	}
	rl.Forget(key)
	if d := rl.When(key); d > time.Second {
		t.Errorf("a key that succeeded and fails again waits %s; want the backoff to start over", d)
	}
}
