package controller

import (
	"context"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TestRouted: an Ingress's status waits until every host it names, TLS
// hosts included, was reconciled from the Ingress as it is; a change of
// its status alone keeps it ready, a change of its spec or annotations
// does not; the reconcile of its last host queues it once it waited.
func TestRouted(t *testing.T) {
	base := func() *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "shop", UID: "u1", Generation: 1, ResourceVersion: "10"},
			Spec: networkingv1.IngressSpec{
				Rules: []networkingv1.IngressRule{{Host: "a.example.com"}},
				TLS:   []networkingv1.IngressTLS{{Hosts: []string{"b.example.com"}, SecretName: "cert"}},
			},
		}
	}
	edited := func(edit func(*networkingv1.Ingress)) *networkingv1.Ingress {
		ing := base()
		edit(ing)
		return ing
	}
	for _, tc := range []struct {
		name       string
		reconciled map[string]*networkingv1.Ingress // host -> the Ingress as its reconcile read it
		now        *networkingv1.Ingress
		ready      bool
	}{
		{"no host reconciled", nil, base(), false},
		{"the rule's host only", map[string]*networkingv1.Ingress{"a.example.com": base()}, base(), false},
		{"both hosts", map[string]*networkingv1.Ingress{"a.example.com": base(), "b.example.com": base()}, base(), true},
		{"both hosts, then a status change", map[string]*networkingv1.Ingress{"a.example.com": base(), "b.example.com": base()},
			edited(func(ing *networkingv1.Ingress) {
				ing.ResourceVersion = "11"
				ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
			}), true},
		{"both hosts, then a spec change", map[string]*networkingv1.Ingress{"a.example.com": base(), "b.example.com": base()},
			edited(func(ing *networkingv1.Ingress) { ing.Generation = 2 }), false},
		{"both hosts, then an annotation", map[string]*networkingv1.Ingress{"a.example.com": base(), "b.example.com": base()},
			edited(func(ing *networkingv1.Ingress) { ing.Annotations = map[string]string{"k": "v"} }), false},
		{"both hosts, one from an older spec", map[string]*networkingv1.Ingress{
			"a.example.com": edited(func(ing *networkingv1.Ingress) { ing.Generation = 2 }), "b.example.com": base()},
			edited(func(ing *networkingv1.Ingress) { ing.Generation = 2 }), false},
		{"both hosts, then recreated", map[string]*networkingv1.Ingress{"a.example.com": base(), "b.example.com": base()},
			edited(func(ing *networkingv1.Ingress) { ing.UID = "u2" }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouted()
			for h, ing := range tc.reconciled {
				r.reconciled(h, []*networkingv1.Ingress{ing})
			}
			if got := r.ready(tc.now); got != tc.ready {
				t.Errorf("ready = %v, want %v", got, tc.ready)
			}
		})
	}

	t.Run("queued once its last host is reconciled", func(t *testing.T) {
		r := newRouted()
		q := workqueue.NewTyped[reconcile.Request]()
		defer q.ShutDown()
		r.queue = q
		ing := base()
		if r.ready(ing) {
			t.Fatal("ready before any host was reconciled")
		}
		r.reconciled("a.example.com", []*networkingv1.Ingress{ing})
		if q.Len() != 0 {
			t.Fatalf("queued after one of its two hosts")
		}
		r.reconciled("b.example.com", []*networkingv1.Ingress{ing})
		if q.Len() != 1 {
			t.Fatalf("%d keys queued after its last host, want 1", q.Len())
		}
		r.reconciled("b.example.com", []*networkingv1.Ingress{ing})
		if q.Len() != 1 {
			t.Errorf("queued again though it no longer waited")
		}
		r.forget(types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
		if r.ready(ing) {
			t.Errorf("ready after it was forgotten")
		}
	})
}

// TestRoutedQuiet: status writes go at once after the host reconciler
// has been idle for quietFor, and go anyway once they waited maxDefer
// for that.
func TestRoutedQuiet(t *testing.T) {
	r := newRouted()
	r.last = time.Now().Add(-r.quietFor)
	r.quiet(context.Background())
	if !r.deferring.IsZero() {
		t.Errorf("waited, though the host reconciler was idle for %v", r.quietFor)
	}
	r.maxDefer = 50 * time.Millisecond
	end := r.begin() // a reconcile that outlasts the wait
	defer end()
	start := time.Now()
	r.quiet(context.Background())
	if waited := time.Since(start); waited < r.maxDefer {
		t.Errorf("went after %v while a host reconcile ran, before maxDefer (%v)", waited, r.maxDefer)
	}
	r.quiet(context.Background()) // still deferred since over maxDefer ago: goes at once
	if r.deferring.IsZero() {
		t.Errorf("no longer deferring, though the host reconciler was never idle")
	}
}
