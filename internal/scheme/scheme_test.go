package scheme

import (
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestNewRecognizesWhatIngressguardReadsAndWrites(t *testing.T) {
	s := New()
	for _, gvk := range []schema.GroupVersionKind{
		networkingv1.SchemeGroupVersion.WithKind("Ingress"),
		networkingv1.SchemeGroupVersion.WithKind("IngressClass"),
		corev1.SchemeGroupVersion.WithKind("Service"),
		corev1.SchemeGroupVersion.WithKind("Secret"),
		cmv1.SchemeGroupVersion.WithKind("Certificate"),
		istionet.SchemeGroupVersion.WithKind("Gateway"),
		istionet.SchemeGroupVersion.WithKind("VirtualService"),
	} {
		if !s.Recognizes(gvk) {
			t.Errorf("scheme does not recognize %s", gvk)
		}
	}
	if New() == s {
		t.Error("New returned the same scheme twice; callers that extend it would share the extension")
	}
}
