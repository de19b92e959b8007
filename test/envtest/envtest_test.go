package envtest_test

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/test/envtest"
)

func TestEnv(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := t.Context()

	t.Run("kubectl sees the CRDs", func(t *testing.T) {
		out, _, err := env.Kubectl(ctx, "", "get", "crd", "-o", "name",
			"virtualservices.networking.istio.io", "gateways.networking.istio.io", "certificates.cert-manager.io")
		if err != nil {
			t.Fatal(err)
		}
		if got := len(strings.Fields(out)); got != 3 {
			t.Fatalf("want 3 CRDs, got %d: %q", got, out)
		}
	})

	t.Run("istio IngressClass exists", func(t *testing.T) {
		var ic networkingv1.IngressClass
		if err := env.Client.Get(ctx, client.ObjectKey{Name: envtest.IngressClassName}, &ic); err != nil {
			t.Fatal(err)
		}
		if ic.Spec.Controller != envtest.IngressController {
			t.Fatalf("controller = %q, want %q", ic.Spec.Controller, envtest.IngressController)
		}
	})

	virtualService := func(name string, http any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "networking.istio.io/v1",
			"kind":       "VirtualService",
			"metadata":   map[string]any{"name": name, "namespace": "default"},
			"spec": map[string]any{
				"hosts": []any{"example.com"},
				"http":  http,
			},
		}}
	}

	t.Run("CRD schema rejects an invalid VirtualService", func(t *testing.T) {
		err := env.Client.Create(ctx, virtualService("invalid", "notalist"))
		if !apierrors.IsInvalid(err) {
			t.Fatalf("want an Invalid error, got %v", err)
		}
		t.Log(err)
		if !strings.Contains(err.Error(), "spec.http") {
			t.Fatalf("error does not name spec.http: %v", err)
		}
	})

	t.Run("CRD schema accepts a valid VirtualService", func(t *testing.T) {
		http := []any{map[string]any{
			"route": []any{map[string]any{
				"destination": map[string]any{"host": "backend.default.svc.cluster.local"},
			}},
		}}
		if err := env.Client.Create(ctx, virtualService("valid", http)); err != nil {
			t.Fatal(err)
		}
	})
}
