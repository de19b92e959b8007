package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// TestEditsConverge: editing the Ingress (new path, new host, host removed,
// TLS added), editing the Service of a named port, and deleting the Ingress
// each controller.
func TestEditsConverge(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "shop")
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	}
	if err := env.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	ing := ingress("shop", "web", time.Time{}, "shop.example.com",
		path{path: "/", pathType: "Prefix", service: "web", port: 80},
		path{path: "/api", pathType: "Prefix", service: "api", portName: "http"})
	if err := env.Client.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "first conversion", wantRoutes(env, "shop.example.com", "=/api,/api/*->api:8080 /*->web:80"))

	update := func(edit func(*networkingv1.Ingress)) {
		t.Helper()
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ing), ing); err != nil {
			t.Fatal(err)
		}
		edit(ing)
		if err := env.Client.Update(ctx, ing); err != nil {
			t.Fatal(err)
		}
	}
	update(func(i *networkingv1.Ingress) {
		pt := networkingv1.PathTypeExact
		i.Spec.Rules[0].HTTP.Paths = append(i.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{Path: "/healthz", PathType: &pt,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 81}}}})
	})
	envtest.Eventually(t, "new path", wantRoutes(env, "shop.example.com", "=/healthz->web:81 =/api,/api/*->api:8080 /*->web:80"))

	update(func(i *networkingv1.Ingress) {
		r := *i.Spec.Rules[0].DeepCopy()
		r.Host = "www.example.com"
		i.Spec.Rules = append(i.Spec.Rules, r)
	})
	envtest.Eventually(t, "new host", wantRoutes(env, "www.example.com", "=/healthz->web:81 =/api,/api/*->api:8080 /*->web:80"))
	envtest.Eventually(t, "a Gateway serves the new host", func() error {
		gw, err := gateway(env, "www.example.com")
		if err != nil {
			return err
		}
		if h := gw.Spec.Servers[len(gw.Spec.Servers)-1].Hosts; len(h) != 1 || h[0] != "www.example.com" {
			return fmt.Errorf("HTTP server hosts %v", h)
		}
		return nil
	})

	update(func(i *networkingv1.Ingress) { i.Spec.Rules = i.Spec.Rules[1:] })
	envtest.Eventually(t, "removed host's VirtualService deleted", gone(func() error { _, err := virtualService(env, "shop.example.com"); return err }))
	envtest.Eventually(t, "removed host's Gateway deleted", gone(func() error { _, err := gateway(env, "shop.example.com"); return err }))

	update(func(i *networkingv1.Ingress) {
		i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"www.example.com"}, SecretName: "www-tls"}}
	})
	envtest.Eventually(t, "TLS server added", func() error {
		gw, err := gateway(env, "www.example.com")
		if err != nil {
			return err
		}
		s := gw.Spec.Servers[0]
		if s.Port.GetNumber() != 443 || s.Tls.GetCredentialName() != "www-tls" || s.Tls.GetMode() != istioapi.ServerTLSSettings_SIMPLE {
			return fmt.Errorf("first server %v", s)
		}
		return nil
	})

	svc.Spec.Ports[0].Port = 9090
	if err := env.Client.Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "named port re-resolved", wantRoutes(env, "www.example.com", "=/healthz->web:81 =/api,/api/*->api:9090 /*->web:80"))

	if err := env.Client.Delete(ctx, ing); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "VirtualService deleted with the Ingress", gone(func() error { _, err := virtualService(env, "www.example.com"); return err }))
	envtest.Eventually(t, "Gateway deleted with the Ingress", gone(func() error { _, err := gateway(env, "www.example.com"); return err }))
}

// TestSharedHost: the objects of a host that its owner (team-a, which
// claimed it first) shares with another namespace
// (convert.AnnotationShareHostWith) hold both Ingresses' routes, and keep
// the other's when the owner's goes.
func TestSharedHost(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "team-a", "team-b")
	a := ingress("team-a", "users", time.Time{}, "api.example.com", path{path: "/users", pathType: "Prefix", service: "users", port: 80})
	a.Annotations = map[string]string{convert.AnnotationShareHostWith: "team-b"}
	b := ingress("team-b", "orders", time.Time{}, "api.example.com", path{path: "/orders", pathType: "Prefix", service: "orders", port: 80})
	for _, ing := range []*networkingv1.Ingress{a, b} {
		if err := env.Client.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
	}
	envtest.Eventually(t, "both Ingresses' routes", wantRoutes(env, "api.example.com", "=/orders,/orders/*->orders:80 =/users,/users/*->users:80"))
	envtest.Eventually(t, "made from both Ingresses", sources(env, "api.example.com", "team-a/users,team-b/orders"))
	if err := env.Client.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the other's routes stay", wantRoutes(env, "api.example.com", "=/orders,/orders/*->orders:80"))
	envtest.Eventually(t, "made from the remaining Ingress only", sources(env, "api.example.com", "team-b/orders"))
}

// sources checks that both objects of host say they are made from want
// (convert.AnnotationIngresses), and that the VirtualService is bound to
// the host's Gateway only.
func sources(env *envtest.Env, host, want string) func() error {
	return func() error {
		vs, err := virtualService(env, host)
		if err != nil {
			return err
		}
		gw, err := gateway(env, host)
		if err != nil {
			return err
		}
		if g := vs.Spec.Gateways; len(g) != 1 || g[0] != gw.Name {
			return fmt.Errorf("VirtualService bound to %v, want [%s]", g, gw.Name)
		}
		for _, got := range []string{vs.Annotations[convert.AnnotationIngresses], gw.Annotations[convert.AnnotationIngresses]} {
			if got != want {
				return fmt.Errorf("made from %q, want %q", got, want)
			}
		}
		return nil
	}
}

// TestHandEditsAndCollisions: a hand edit of a generated object is
// reverted, with one write; an unlabelled
// VirtualService with a colliding name is never modified, and the Ingress
// gets a Warning event saying why.
func TestHandEditsAndCollisions(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	run := startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "web")

	theirs := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: convert.ObjectName("taken.example.com")}}
	theirs.Spec.Hosts = []string{"taken.example.com"}
	theirs.Spec.Http = []*istioapi.HTTPRoute{{Route: []*istioapi.HTTPRouteDestination{{Destination: &istioapi.Destination{Host: "theirs"}}}}}
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	version := theirs.ResourceVersion
	// The reconcilers have no key yet (no Ingress; the cache holds only
	// labelled VirtualServices): the taker's is the only one they get.
	before := reconcileCounts(t)
	if err := env.Client.Create(ctx, ingress("web", "taker", time.Time{}, "taken.example.com", path{path: "/", pathType: "Prefix", service: "mine", port: 80})); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "collision reported on the Ingress", hasWarning(env, "web", "taker", "NameCollision", ""))
	reconciledSince(t, "the taker reconciled to the end", before)
	if w := run.writesTo(theirs); w != 0 {
		t.Errorf("%d write calls to the unlabelled VirtualService, want 0", w)
	}
	if vs, err := virtualService(env, "taken.example.com"); err != nil {
		t.Fatal(err)
	} else if vs.ResourceVersion != version {
		t.Errorf("the unlabelled VirtualService was modified: %v", vs.Spec.String())
	}

	if err := env.Client.Create(ctx, ingress("web", "site", time.Time{}, "site.example.com", path{path: "/", pathType: "Prefix", service: "site", port: 80})); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "converted", wantRoutes(env, "site.example.com", "/*->site:80"))
	site, err := virtualService(env, "site.example.com")
	if err != nil {
		t.Fatal(err)
	}
	created := run.writesTo(site)
	handEdit := func(what string) {
		t.Helper()
		vs, err := virtualService(env, "site.example.com")
		if err != nil {
			t.Fatal(err)
		}
		vs.Spec.Http[0].Route[0].Destination.Host = "hijacked.web.svc.cluster.local"
		vs.Spec.ExportTo = []string{"."}
		if err := env.Client.Update(ctx, vs); err != nil {
			t.Fatal(err)
		}
		envtest.Eventually(t, what, func() error {
			vs, err := virtualService(env, "site.example.com")
			if err != nil {
				return err
			}
			if got := routes(vs); got != "/*->site:80" || len(vs.Spec.ExportTo) != 0 {
				return fmt.Errorf("routes %q exportTo %v", got, vs.Spec.ExportTo)
			}
			return nil
		})
	}
	handEdit("hand edit reverted")
	// A second hand edit is the sync point: the watch event of the first
	// revert reaches the host's key before the second edit's does, and a key
	// is reconciled by one worker at a time, so once the second edit is
	// reverted, every reconcile the first revert caused is over.
	handEdit("second hand edit reverted")
	if w := run.writesTo(site) - created; w != 2 {
		t.Errorf("reverting two hand edits took %d write calls to the VirtualService, want 2", w)
	}
	gw, _ := gateway(env, "site.example.com")
	gw.Spec.Selector = map[string]string{"app": "something-else"}
	if err := env.Client.Update(ctx, gw); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "Gateway hand edit reverted", func() error {
		gw, err := gateway(env, "site.example.com")
		if err != nil {
			return err
		}
		if gw.Spec.Selector["istio"] != "ingressgateway" || len(gw.Spec.Selector) != 1 {
			return fmt.Errorf("selector %v", gw.Spec.Selector)
		}
		return nil
	})
}

// TestHostsThatDependOnOthers: a host's objects follow the Ingresses of
// other hosts they depend on. An exact host gets its HTTPS server from
// another Ingress's wildcard tls entry, and loses it with that Ingress; a
// wildcard host's VirtualService carries the rules without host (of any
// Ingress) for the names more than one label below it.
func TestHostsThatDependOnOthers(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "team-a", "team-b", "ops")
	www := ingress("team-a", "www", time.Time{}, "www.example.com", path{path: "/", pathType: "Prefix", service: "www", port: 80})
	wild := ingress("team-b", "wild", time.Time{}, "*.example.com", path{path: "/", pathType: "Prefix", service: "tenant", port: 80})
	wild.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"*.example.com"}, SecretName: "wild-tls"}}
	for _, ing := range []*networkingv1.Ingress{www, wild} {
		if err := env.Client.Create(ctx, ing); err != nil {
			t.Fatal(err)
		}
	}
	https := func(want string) func() error {
		return func() error {
			gw, err := gateway(env, "www.example.com")
			if err != nil {
				return err
			}
			got := ""
			for _, s := range gw.Spec.Servers {
				if s.Port.GetNumber() == 443 {
					got = s.Tls.GetCredentialName()
				}
			}
			if got != want {
				return fmt.Errorf("www.example.com's HTTPS certificate is %q, want %q", got, want)
			}
			return nil
		}
	}
	envtest.Eventually(t, "the exact host serves HTTPS with the wildcard's certificate", https("wild-tls"))
	envtest.Eventually(t, "and says where it comes from", sources(env, "www.example.com", "team-a/www,team-b/wild"))

	health := ingress("ops", "health", time.Time{}, "", path{path: "/healthz", pathType: "Exact", service: "health", port: 80})
	if err := env.Client.Create(ctx, health); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the wildcard carries the rules without host for deeper names",
		wantRoutes(env, "*.example.com", "/*->tenant:80 =/healthz->health:80"))
	if err := env.Client.Delete(ctx, health); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "and drops them with their Ingress", wantRoutes(env, "*.example.com", "/*->tenant:80"))

	if err := env.Client.Delete(ctx, wild); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the exact host loses HTTPS with the wildcard's Ingress", https(""))
}
