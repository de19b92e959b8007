package controller

import (
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
	cached := func(*networkingv1.Ingress) bool { return true }
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
				r.reconciled(h, []*networkingv1.Ingress{ing}, cached)
			}
			if got := r.ready(tc.now); got != tc.ready {
				t.Errorf("ready = %v, want %v", got, tc.ready)
			}
		})
	}

	t.Run("deleted while its host was written", func(t *testing.T) {
		r := newRouted()
		ing := base()
		r.forget(types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
		r.reconciled("a.example.com", []*networkingv1.Ingress{ing}, func(*networkingv1.Ingress) bool { return false })
		if len(r.hosts) != 0 {
			t.Errorf("a record kept for an Ingress the cache no longer has: %v", r.hosts)
		}
	})

	t.Run("a host it no longer names is dropped", func(t *testing.T) {
		r := newRouted()
		ing := base()
		r.reconciled("a.example.com", []*networkingv1.Ingress{ing}, cached)
		r.reconciled("b.example.com", []*networkingv1.Ingress{ing}, cached)
		moved := edited(func(ing *networkingv1.Ingress) {
			ing.Generation = 2
			ing.Spec.Rules[0].Host = "c.example.com"
			ing.Spec.TLS = nil
		})
		r.reconciled("c.example.com", []*networkingv1.Ingress{moved}, cached)
		key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
		if got := r.hosts[key]; len(got) != 1 || got[0].host != "c.example.com" {
			t.Errorf("record %v, want c.example.com's only", got)
		}
		if !r.ready(moved) {
			t.Errorf("not ready once its one host was reconciled")
		}
	})

	t.Run("queued once its last host is reconciled", func(t *testing.T) {
		r := newRouted()
		q := workqueue.NewTyped[reconcile.Request]()
		defer q.ShutDown()
		r.queue = q
		ing := base()
		if r.ready(ing) {
			t.Fatal("ready before any host was reconciled")
		}
		r.reconciled("a.example.com", []*networkingv1.Ingress{ing}, cached)
		if q.Len() != 0 {
			t.Fatalf("queued after one of its two hosts")
		}
		r.reconciled("b.example.com", []*networkingv1.Ingress{ing}, cached)
		if q.Len() != 1 {
			t.Fatalf("%d keys queued after its last host, want 1", q.Len())
		}
		r.reconciled("b.example.com", []*networkingv1.Ingress{ing}, cached)
		if q.Len() != 1 {
			t.Errorf("queued again though it no longer waited")
		}
		r.forget(types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
		if r.ready(ing) {
			t.Errorf("ready after it was forgotten")
		}
	})
}

// TestRoutedWait: status writes wait while the host reconciler works
// and for quietFor after, but not once it has been busy for maxDefer.
func TestRoutedWait(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name   string
		active int
		busy   time.Duration // since t0, when its work began
		last   time.Duration // since t0, when a reconcile last began or ended
		now    time.Duration
		want   time.Duration
	}{
		{"never worked", 0, 0, 0, ms(1000), 0},
		{"idle long enough", 0, 0, ms(100), ms(350), 0},
		{"idle for a while", 0, 0, ms(100), ms(300), ms(50)},
		{"working", 1, 0, ms(100), ms(300), ms(250)},
		{"working, maxDefer near", 1, 0, ms(100), ms(14900), ms(100)},
		{"working for maxDefer", 2, 0, ms(14990), ms(15000), 0},
		{"idle for a while after maxDefer", 0, 0, ms(15100), ms(15200), 0},
		{"working again after a pause", 1, ms(16000), ms(16000), ms(16100), ms(250)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouted()
			r.active, r.busy, r.last = tc.active, t0.Add(tc.busy), t0.Add(tc.last)
			if got := r.lockedWait(t0.Add(tc.now)); got != tc.want {
				t.Errorf("wait %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRoutedBusySince: a reconcile that begins after quietFor or more
// without one starts a new busy spell; one that begins sooner does not.
func TestRoutedBusySince(t *testing.T) {
	r := newRouted()
	r.last = time.Now().Add(-time.Hour)
	r.begin()()
	first := r.busy
	if time.Since(first) > time.Minute {
		t.Fatalf("busy since %v after a reconcile began an hour after the last", first)
	}
	r.begin()() // at once: the same spell
	if !r.busy.Equal(first) {
		t.Errorf("a reconcile right after another began a new busy spell")
	}
	r.last = time.Now().Add(-r.quietFor)
	r.begin()()
	if r.busy.Equal(first) {
		t.Errorf("a reconcile after quietFor idle did not begin a new busy spell")
	}
}
