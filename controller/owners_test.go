package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/controller"
	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// createAll creates the objects, failing the test on an error.
func createAll(t *testing.T, env *envtest.Env, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// editIngress reads the Ingress, applies edit and updates it.
func editIngress(t *testing.T, env *envtest.Env, ing *networkingv1.Ingress, edit func(*networkingv1.Ingress)) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil {
		t.Fatal(err)
	}
	edit(ing)
	if err := env.Client.Update(ctx, ing); err != nil {
		t.Fatal(err)
	}
}

// addPath adds an Exact path to the Ingress's first rule.
func addPath(p string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) {
		pt := networkingv1.PathTypeExact
		ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{Path: p, PathType: &pt,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "extra", Port: networkingv1.ServiceBackendPort{Number: 80}}}})
	}
}

// hasWarning checks that the Ingress has a Warning event with that reason
// whose note contains want.
func hasWarning(env *envtest.Env, ns, name, reason, want string) func() error {
	return func() error {
		notes, err := warningEvents(env, ns, name, reason)
		if err != nil {
			return err
		}
		for _, n := range notes {
			if strings.Contains(n, want) {
				return nil
			}
		}
		return fmt.Errorf("no %s event on %s/%s saying %q (have %q)", reason, ns, name, want, notes)
	}
}

// occurrences checks that the Ingress has Warning events with that reason
// that occurred want times in all, counting the series of a repeat.
func occurrences(env *envtest.Env, ing *networkingv1.Ingress, reason string, want int32) func() error {
	return func() error {
		var list eventsv1.EventList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ing.Namespace)); err != nil {
			return err
		}
		var got int32
		for _, e := range list.Items {
			if e.Regarding.Kind == "Ingress" && e.Regarding.Name == ing.Name && e.Reason == reason {
				got++
				if e.Series != nil {
					got += e.Series.Count - 1
				}
			}
		}
		if got != want {
			return fmt.Errorf("%s/%s has %d %s events, want %d", ing.Namespace, ing.Name, got, reason, want)
		}
		return nil
	}
}

// TestRecordedHostCollision: a VirtualService labelled as ours that holds
// host a's name but records host b (as two hosts whose names collide
// would, or an edit of its annotation) is neither overwritten nor deleted:
// not by a's reconciles, whatever their number, nor by the cleanup of
// objects whose name is not their recorded host's, although b's own
// objects exist. a's Ingress gets a NameCollision event, b is untouched,
// no reconcile fails (so none is retried in a loop), and a is written
// again once the object records a.
func TestRecordedHostCollision(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	run := startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "team-a", "team-b")
	a := ingress("team-a", "a", time.Time{}, "a.example.com", path{path: "/", pathType: "Prefix", service: "a", port: 80})
	b := ingress("team-b", "b", time.Time{}, "b.example.com", path{path: "/", pathType: "Prefix", service: "b", port: 80})
	createAll(t, env, a, b)
	envtest.Eventually(t, "a converged", wantRoutes(env, "a.example.com", "/*->a:80"))
	envtest.Eventually(t, "b converged", wantRoutes(env, "b.example.com", "/*->b:80"))
	bVS, err := virtualService(env, "b.example.com")
	if err != nil {
		t.Fatal(err)
	}

	// a's VirtualService now records host b and routes elsewhere. Its
	// name is not b's, so its watch event is an orphan key: the only key.
	before := map[string]float64{"hosts": reconciles(t, "hosts")}
	errs := reconcileErrors(t, "hosts")
	taken, err := virtualService(env, "a.example.com")
	if err != nil {
		t.Fatal(err)
	}
	taken.Annotations[convert.AnnotationHost] = "b.example.com"
	taken.Spec.Http[0].Route[0].Destination.Host = "theirs.team-b.svc.cluster.local"
	if err := env.Client.Update(ctx, taken); err != nil {
		t.Fatal(err)
	}
	writes := run.writesTo(taken)
	untouched := func(when string) {
		t.Helper()
		vs, err := virtualService(env, "a.example.com")
		if err != nil {
			t.Fatalf("%s: the VirtualService that records host b is gone: %v", when, err)
		}
		if vs.ResourceVersion != taken.ResourceVersion {
			t.Errorf("%s: the VirtualService that records host b was written: routes %q, host %q", when, routes(vs), vs.Annotations[convert.AnnotationHost])
		}
		if w := run.writesTo(taken) - writes; w != 0 {
			t.Errorf("%s: %d write calls to the VirtualService that records host b, want 0", when, w)
		}
		if e := reconcileErrors(t, "hosts") - errs; e != 0 {
			t.Errorf("%s: %v reconciles of hosts failed, and are retried", when, e)
		}
		if vs, err := virtualService(env, "b.example.com"); err != nil || vs.ResourceVersion != bVS.ResourceVersion {
			t.Errorf("%s: b's own VirtualService changed (err %v)", when, err)
		}
	}
	reconciledSince(t, "the orphan key reconciled", before)
	envtest.Eventually(t, "the collision reported on a's Ingress",
		hasWarning(env, "team-a", "a", controller.ReasonNameCollision, `records host "b.example.com"`))
	untouched("after the cleanup of objects named otherwise than their host")

	// A change of a reconciles a's key: still no write.
	before = reconcileCounts(t)
	editIngress(t, env, a, addPath("/new"))
	reconciledSince(t, "a reconciled", before)
	untouched("after a's Ingress changed")

	// The object records a again: a change of it reconciles a, which
	// writes a's routes.
	taken.Annotations[convert.AnnotationHost] = "a.example.com"
	if err := env.Client.Update(ctx, taken); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "a written once the object records a", wantRoutes(env, "a.example.com", "=/new->extra:80 /*->a:80"))
}

// TestTooLarge: when the API server refuses one host's VirtualService as
// too large (etcd's own refusal, of a write grown past its limit), every
// Ingress of that host gets one Warning event saying so, the write is not
// retried in a loop, other hosts converge, and the host is written once
// its VirtualService fits and its Ingresses change.
func TestTooLarge(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	run := startReconciler(t, env, false)
	big := convert.ObjectName("big.example.com")
	run.oversize.Store(&big)
	createNamespace(t, env, "team-a", "team-b")
	big1 := ingress("team-a", "big", time.Time{}, "big.example.com", path{path: "/a", pathType: "Prefix", service: "a", port: 80})
	big2 := ingress("team-b", "big", time.Time{}, "big.example.com", path{path: "/b", pathType: "Prefix", service: "b", port: 80})
	small := ingress("team-b", "small", time.Time{}, "small.example.com", path{path: "/", pathType: "Prefix", service: "s", port: 80})
	// team-a claims the host first and shares it, so that both
	// namespaces' Ingresses contribute to its VirtualService.
	big1.Annotations = map[string]string{convert.AnnotationShareHostWith: "team-b"}
	createAll(t, env, big1, big2, small)
	for _, ing := range []*networkingv1.Ingress{big1, big2} {
		envtest.Eventually(t, "the refusal reported on "+ing.Namespace+"/"+ing.Name,
			hasWarning(env, ing.Namespace, ing.Name, controller.ReasonTooLarge, "request is too large"))
	}
	envtest.Eventually(t, "another host converges", wantRoutes(env, "small.example.com", "/*->s:80"))
	envtest.Eventually(t, "big's Gateway, which fits, is written", func() error { _, err := gateway(env, "big.example.com"); return err })

	// b's Ingress changes, which reconciles big's key only: the refusal
	// fails no reconcile (a failed one is retried, with a backoff, until
	// it succeeds).
	errs := reconcileErrors(t, "hosts")
	before := map[string]float64{"hosts": reconciles(t, "hosts")}
	editIngress(t, env, big2, addPath("/b2"))
	reconciledSince(t, "big reconciled", before)
	if e := reconcileErrors(t, "hosts") - errs; e != 0 {
		t.Errorf("%v reconciles of hosts failed, and are retried", e)
	}
	if _, err := virtualService(env, "big.example.com"); err == nil {
		t.Errorf("the refused VirtualService exists")
	}
	// The events recorder writes a repeat of an event as a series of
	// count 2 (and later repeats only every 30 minutes): one more event
	// per change of b's Ingress, none for a's, which did not change.
	envtest.Eventually(t, "one more event on b's Ingress, which changed", occurrences(env, big2, controller.ReasonTooLarge, 2))
	if err := occurrences(env, big1, controller.ReasonTooLarge, 1)(); err != nil {
		t.Error(err)
	}

	run.oversize.Store(nil)
	editIngress(t, env, big1, addPath("/a2"))
	envtest.Eventually(t, "written once it fits and its Ingresses change",
		wantRoutes(env, "big.example.com", "=/a2->extra:80 =/b2->extra:80 =/a,/a/*->a:80 =/b,/b/*->b:80"))
}

// TestForgedStampReverted: an edit of a VirtualService's spec that also
// sets the spec-generation and spec-digest annotations older versions
// trusted (to the new generation, and to the digest of the spec
// ingressguard wrote) is reverted: by a resync (a new process, the edit
// made while none ran), and by the watch while one runs.
func TestForgedStampReverted(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	createNamespace(t, env, "web")
	createAll(t, env, ingress("web", "site", time.Time{}, "site.example.com", path{path: "/", pathType: "Prefix", service: "site", port: 80}))
	first := startReconciler(t, env, false)
	envtest.Eventually(t, "converged", wantRoutes(env, "site.example.com", "/*->site:80"))
	first.stop()

	forge := func() {
		t.Helper()
		vs, err := virtualService(env, "site.example.com")
		if err != nil {
			t.Fatal(err)
		}
		digest := vs.Annotations["ingressguard.io/spec-digest"]
		vs.Spec.Http[0].Route[0].Destination.Host = "hijacked.web.svc.cluster.local"
		vs.Annotations["ingressguard.io/spec-generation"] = fmt.Sprint(vs.Generation + 1)
		vs.Annotations["ingressguard.io/spec-digest"] = digest
		// The answer to the update is the forged object; a read after it
		// could already find the running reconciler's revert.
		if err := env.Client.Update(ctx, vs); err != nil {
			t.Fatal(err)
		}
		if s := vs.Annotations["ingressguard.io/spec-generation"]; s != fmt.Sprint(vs.Generation) {
			t.Fatalf("the forged spec-generation %s is not the new generation %d", s, vs.Generation)
		}
	}
	forge()
	startReconciler(t, env, false)
	envtest.Eventually(t, "reverted by the resync", wantRoutes(env, "site.example.com", "/*->site:80"))
	forge()
	envtest.Eventually(t, "reverted while running", wantRoutes(env, "site.example.com", "/*->site:80"))
}

// TestOrphanKeptWhileItsHostHasNoOwn: an object of ours whose name is not
// its recorded host's (as an older version named them) is not deleted
// while that host has Ingresses but no object of that kind of its own
// (here its VirtualService is refused as too large), since it may be what
// still serves the host; it is deleted once the host's own is written.
func TestOrphanKeptWhileItsHostHasNoOwn(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	run := startReconciler(t, env, false)
	ctx := context.Background()
	own := convert.ObjectName("h.example.com")
	run.oversize.Store(&own)
	createNamespace(t, env, "web")
	ing := ingress("web", "h", time.Time{}, "h.example.com", path{path: "/", pathType: "Prefix", service: "h", port: 80})
	createAll(t, env, ing)
	envtest.Eventually(t, "the host's own VirtualService refused", hasWarning(env, "web", "h", controller.ReasonTooLarge, "too large"))

	older := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: "h-example-com-150de168c8",
		Labels:      map[string]string{convert.LabelManagedBy: convert.ManagedBy},
		Annotations: map[string]string{convert.AnnotationHost: "h.example.com"}}}
	older.Spec.Hosts = []string{"h.example.com"}
	before := map[string]float64{"hosts": reconciles(t, "hosts")}
	createAll(t, env, older)
	reconciledSince(t, "the older VirtualService's key reconciled", before)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(older), &istionet.VirtualService{}); err != nil {
		t.Fatalf("the older VirtualService of a host without its own: %v", err)
	}

	run.oversize.Store(nil)
	editIngress(t, env, ing, addPath("/new"))
	envtest.Eventually(t, "the host's own written", wantRoutes(env, "h.example.com", "=/new->extra:80 /*->h:80"))
	envtest.Eventually(t, "then the older one deleted", gone(func() error {
		return env.Client.Get(ctx, client.ObjectKeyFromObject(older), &istionet.VirtualService{})
	}))
}
