package controller_test

import (
	"context"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
