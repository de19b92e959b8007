package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// reconciles reads controller-runtime's reconcile counter of a controller.
func reconciles(t *testing.T, controller string) float64 {
	t.Helper()
	return counter(t, "controller_runtime_reconcile_total", controller)
}

// reconcileErrors reads how many reconciles of a controller returned an
// error, each of which is retried with a backoff.
func reconcileErrors(t *testing.T, controller string) float64 {
	t.Helper()
	return counter(t, "controller_runtime_reconcile_errors_total", controller)
}

// counter sums a counter family of controller-runtime over the series of
// one controller.
func counter(t *testing.T, family, controller string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// gatewayService creates the ingress gateway Service with a load-balancer IP.
func gatewayService(t *testing.T, env *envtest.Env, ip string) *corev1.Service {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: "istio-ingressgateway"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http2", Port: 80}}},
	}
	if err := env.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	setLoadBalancerIP(t, env, svc, ip)
	return svc
}

func setLoadBalancerIP(t *testing.T, env *envtest.Env, svc *corev1.Service, ip string) {
	t.Helper()
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	if err := env.Client.Status().Update(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
}

func wantStatusIP(env *envtest.Env, ns, name, ip string) func() error {
	return func() error {
		var ing networkingv1.Ingress
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &ing); err != nil {
			return err
		}
		if lb := ing.Status.LoadBalancer.Ingress; len(lb) != 1 || lb[0].IP != ip {
			return fmt.Errorf("status.loadBalancer.ingress = %v, want %s", lb, ip)
		}
		return nil
	}
}

// TestResyncWritesNothing: after 200 Ingresses have converged, a full
// resync (a new process with an empty cache reconciles every key) makes zero
// write calls; and a restart while Ingresses were deleted removes the
// orphans.
func TestResyncWritesNothing(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	gatewayService(t, env, "192.0.2.10")
	const n, hosts = 200, 50
	namespaces := []string{"ns-0", "ns-1", "ns-2", "ns-3"}
	createNamespace(t, env, namespaces...)
	var ings []*networkingv1.Ingress
	for i := range n {
		ing := ingress(namespaces[i%len(namespaces)], fmt.Sprintf("app-%d", i), time.Time{}, fmt.Sprintf("h%d.example.com", i%hosts),
			path{path: fmt.Sprintf("/app%d", i), pathType: "Prefix", service: fmt.Sprintf("svc-%d", i), port: 80})
		// Each host is shared by four namespaces, by its owner's consent.
		ing.Annotations = map[string]string{convert.AnnotationShareHostWith: "*"}
		if err := env.Client.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
		ings = append(ings, ing)
	}
	first := startReconciler(t, env, false)
	envtest.Eventually(t, "every host converged", func() error {
		for h := range hosts {
			vs, err := virtualService(env, fmt.Sprintf("h%d.example.com", h))
			if err != nil {
				return err
			}
			if len(vs.Spec.Http) != n/hosts {
				return fmt.Errorf("h%d has %d routes", h, len(vs.Spec.Http))
			}
		}
		return nil
	})
	envtest.Eventually(t, "every status written", func() error {
		for _, ing := range ings {
			if err := wantStatusIP(env, ing.Namespace, ing.Name, "192.0.2.10")(); err != nil {
				return err
			}
		}
		return nil
	})
	first.stop()
	t.Logf("converging %d Ingresses on %d hosts took %d write calls", n, hosts, first.writes.Load())

	ing0, host0 := reconciles(t, "ingresses"), reconciles(t, "hosts")
	second := startReconciler(t, env, false)
	envtest.Eventually(t, "the new process reconciled every key", func() error {
		if g, v := reconciles(t, "ingresses")-ing0, reconciles(t, "hosts")-host0; g < n || v < hosts {
			return fmt.Errorf("%v of %d Ingress keys and %v of %d host keys reconciled", g, n, v, hosts)
		}
		return nil
	})
	if w := second.writes.Load(); w != 0 {
		t.Fatalf("a resync of a converged cluster made %d write calls, want 0", w)
	}
	second.stop()

	// Restart while Ingresses were deleted: their objects are orphans.
	for i, ing := range ings { // every Ingress of host h0, and one of h1
		if i%hosts == 0 || i == 1 {
			if err := env.Client.Delete(ctx, ing); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Objects of ours that an older version named otherwise (a Gateway per
	// Ingress, shorter hashes) are orphans too.
	legacy := []client.Object{
		&istionet.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "site-web-a4904cbf3e", Namespace: gwNS,
			Labels:      map[string]string{convert.LabelManagedBy: convert.ManagedBy},
			Annotations: map[string]string{"ingressguard.io/ingress": "web/site"}}},
		&istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: "h1-example-com-150de168c8", Namespace: gwNS,
			Labels:      map[string]string{convert.LabelManagedBy: convert.ManagedBy},
			Annotations: map[string]string{convert.AnnotationHost: "h1.example.com"}}},
	}
	for _, o := range legacy {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	startReconciler(t, env, false)
	envtest.Eventually(t, "objects of an older version removed", func() error {
		for _, o := range legacy {
			if err := gone(func() error { return env.Client.Get(ctx, client.ObjectKeyFromObject(o), o) })(); err != nil {
				return fmt.Errorf("%s: %v", o.GetName(), err)
			}
		}
		return nil
	})
	envtest.Eventually(t, "orphaned Gateway of a host without Ingresses removed", gone(func() error { _, err := gateway(env, "h0.example.com"); return err }))
	envtest.Eventually(t, "orphaned VirtualService of a host without Ingresses removed", gone(func() error { _, err := virtualService(env, "h0.example.com"); return err }))
	envtest.Eventually(t, "other hosts keep their remaining routes", func() error {
		vs, err := virtualService(env, "h1.example.com")
		if err != nil {
			return err
		}
		if len(vs.Spec.Http) != n/hosts-1 {
			return fmt.Errorf("h1 has %d routes, want %d", len(vs.Spec.Http), n/hosts-1)
		}
		return nil
	})
}

// TestStatusFollowsGatewayService: Ingress status comes from the ingress
// gateway Service and follows its address changes.
func TestStatusFollowsGatewayService(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	svc := gatewayService(t, env, "192.0.2.1")
	createNamespace(t, env, "web")
	if err := env.Client.Create(ctx, ingress("web", "site", time.Time{}, "site.example.com", path{path: "/", pathType: "Prefix", service: "site", port: 80})); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "status set", wantStatusIP(env, "web", "site", "192.0.2.1"))
	setLoadBalancerIP(t, env, svc, "192.0.2.2")
	envtest.Eventually(t, "status follows the Service", wantStatusIP(env, "web", "site", "192.0.2.2"))
}

// TestIstiodConverting: with istiod's own conversion on, nothing is written
// and each affected Ingress gets a Warning event; turning it OFF converges.
func TestIstiodConverting(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	mesh := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: "istio"},
		Data:       map[string]string{"mesh": "ingressControllerMode: DEFAULT\ningressClass: istio\n"},
	}
	if err := env.Client.Create(ctx, mesh); err != nil {
		t.Fatal(err)
	}
	// No Ingress yet: the reconcilers start without keys, and the site's
	// Ingress and host are the only ones they get.
	before := reconcileCounts(t)
	r := startReconciler(t, env, false)
	createNamespace(t, env, "web")
	if err := env.Client.Create(ctx, ingress("web", "site", time.Time{}, "site.example.com", path{path: "/", pathType: "Prefix", service: "site", port: 80})); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "a Warning event explains why nothing is written", func() error {
		notes, err := warningEvents(env, "web", "site", "IstiodConverts")
		if err != nil || len(notes) == 0 {
			return fmt.Errorf("no IstiodConverts event yet (%v)", err)
		}
		return nil
	})
	reconciledSince(t, "the Ingress and its host reconciled to the end", before)
	if _, err := gateway(env, "site.example.com"); err == nil {
		t.Error("a Gateway was written")
	}
	if _, err := virtualService(env, "site.example.com"); err == nil {
		t.Error("a VirtualService was written")
	}
	// Events are the only writes: nothing to the Istio objects or status.
	if w := r.writes.Load(); w != 0 {
		t.Fatalf("%d write calls while istiod converts", w)
	}
	mesh.Data["mesh"] = "ingressControllerMode: \"OFF\"\n"
	if err := env.Client.Update(ctx, mesh); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "converges once istiod's conversion is OFF", wantRoutes(env, "site.example.com", "/*->site:80"))
}

// TestLeaderElection: with two replicas only the leader writes; when it
// stops, the other takes over and converges.
func TestLeaderElection(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	createNamespace(t, env, "web")
	leader := startReconciler(t, env, true)
	if err := env.Client.Create(ctx, ingress("web", "one", time.Time{}, "one.example.com", path{path: "/", pathType: "Prefix", service: "one", port: 80})); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the leader converges", wantRoutes(env, "one.example.com", "/*->one:80"))
	follower := startReconciler(t, env, true)
	if err := env.Client.Create(ctx, ingress("web", "two", time.Time{}, "two.example.com", path{path: "/", pathType: "Prefix", service: "two", port: 80})); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the leader converges the second Ingress", wantRoutes(env, "two.example.com", "/*->two:80"))
	if w := follower.writes.Load(); w != 0 {
		t.Fatalf("the follower made %d write calls", w)
	}
	leader.stop()
	if err := env.Client.Create(ctx, ingress("web", "three", time.Time{}, "three.example.com", path{path: "/", pathType: "Prefix", service: "three", port: 80})); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the follower takes over and converges", wantRoutes(env, "three.example.com", "/*->three:80"))
	if follower.writes.Load() == 0 {
		t.Fatal("the new leader wrote nothing")
	}
}
