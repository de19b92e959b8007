package controller_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/controller"
	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// TestStatusKeepsMetadata: writing an Ingress's status keeps its labels
// and annotations, which the cache does not hold (an update of status
// from the cached copy would erase them).
func TestStatusKeepsMetadata(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	gatewayService(t, env, "192.0.2.10")
	startReconciler(t, env, false)
	ing := ingress("default", "a", time.Time{}, "h.example.com", path{path: "/", pathType: "Prefix", service: "s", port: 80})
	ing.Labels = map[string]string{"app.kubernetes.io/name": "shop"}
	ing.Annotations = map[string]string{"meta.helm.sh/release-name": "shop"}
	if err := env.Client.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "status written", wantStatusIP(env, "default", "a", "192.0.2.10"))
	var got networkingv1.Ingress
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ing), &got); err != nil {
		t.Fatal(err)
	}
	if got.Labels["app.kubernetes.io/name"] != "shop" || got.Annotations["meta.helm.sh/release-name"] != "shop" {
		t.Fatalf("after the status update: labels %v, annotations %v", got.Labels, got.Annotations)
	}
}

// TestStatusAfterRoutes: an Ingress's status is written only once the
// routes of its hosts are, and in a burst only once the host reconciler
// has nothing left to do (routed). Each write of a VirtualService is held
// back at the proxy, so that a status written earlier would be seen
// earlier.
func TestStatusAfterRoutes(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	proxy := faultProxy(t, env)
	routes := func(r envtest.Request) bool { return r.Write() && r.Resource == "virtualservices" }
	proxy.SetRule(func(r envtest.Request) envtest.Fault {
		if routes(r) {
			return envtest.Fault{Delay: time.Second}
		}
		return envtest.Fault{}
	})
	var mu sync.Mutex
	var order []string // "routes" per VirtualService written, "status" per status patch
	proxy.Observe(func(r envtest.Request, code int) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case routes(r) && code < 300:
			order = append(order, "routes")
		case r.Method == http.MethodPatch && r.Resource == "ingresses" && r.Subresource == "status":
			order = append(order, "status")
		}
	})
	gatewayService(t, env, "192.0.2.10")
	startReplica(t, env, replica{config: proxy.Config()})
	for _, tc := range []struct {
		name string
		n    int // Ingresses, each on a host of its own
	}{
		// One Ingress: without waiting for its routes, its status was
		// written at once, before its host's reconcile even began.
		{"one Ingress", 1},
		// More hosts than the host reconciler's workers: a status written
		// once its own routes were would come before the last hosts'.
		{"a burst", 2*controller.DefaultWorkers - 2},
	} {
		mu.Lock()
		order = nil
		mu.Unlock()
		ns := "burst-" + strconv.Itoa(tc.n)
		createNamespace(t, env, ns)
		var ings []client.Object
		for i := range tc.n {
			ings = append(ings, ingress(ns, "app-"+strconv.Itoa(i), time.Time{}, ns+"-"+strconv.Itoa(i)+".example.com",
				path{path: "/", pathType: "Prefix", service: "web", port: 80}))
		}
		createAll(t, env, ings...)
		for _, ing := range ings {
			envtest.Eventually(t, "status of "+ing.GetName(), wantStatusIP(env, ns, ing.GetName(), "192.0.2.10"))
		}
		mu.Lock()
		want := slices.Repeat([]string{"routes"}, tc.n)
		want = append(want, slices.Repeat([]string{"status"}, tc.n)...)
		if !slices.Equal(order, want) {
			t.Errorf("%s: writes in the order %v, want %v", tc.name, order, want)
		}
		mu.Unlock()
	}
}

// TestStatusHeldByCollision: an Ingress whose host's VirtualService name
// is held by an object that is not ours gets a NameCollision event and no
// status, since nothing serves its routes; once that object goes, its
// routes are written and then its status.
func TestStatusHeldByCollision(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	gatewayService(t, env, "192.0.2.10")
	startReconciler(t, env, false)
	const host = "held.example.com"
	theirs := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: convert.ObjectName(host)}}
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	createNamespace(t, env, "web")
	ing := ingress("web", "held", time.Time{}, host, path{path: "/", pathType: "Prefix", service: "web", port: 80})
	createAll(t, env, ing)
	envtest.Eventually(t, "collision reported", hasWarning(env, "web", "held", controller.ReasonNameCollision, ""))
	// A status written despite the collision would follow the host's
	// reconcile within a second (controller.StatusQuiet after it).
	time.Sleep(2 * time.Second)
	if err := wantStatusIP(env, "web", "held", "192.0.2.10")(); err == nil {
		t.Errorf("status written while another's VirtualService holds the host's name")
	}
	if err := env.Client.Delete(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "routes once the name is free", wantRoutes(env, host, "/*->web:80"))
	envtest.Eventually(t, "status once the routes are written", wantStatusIP(env, "web", "held", "192.0.2.10"))
}
