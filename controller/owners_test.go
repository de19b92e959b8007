package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
		if err := env.Client.Update(ctx, vs); err != nil {
			t.Fatal(err)
		}
		got := &istionet.VirtualService{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(vs), got); err != nil {
			t.Fatal(err)
		}
		if s := got.Annotations["ingressguard.io/spec-generation"]; s != fmt.Sprint(got.Generation) {
			t.Fatalf("the forged spec-generation %s is not the new generation %d", s, got.Generation)
		}
	}
	forge()
	startReconciler(t, env, false)
	envtest.Eventually(t, "reverted by the resync", wantRoutes(env, "site.example.com", "/*->site:80"))
	forge()
	envtest.Eventually(t, "reverted while running", wantRoutes(env, "site.example.com", "/*->site:80"))
}
