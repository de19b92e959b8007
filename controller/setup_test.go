package controller

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// TestNotStatusOnly: an Ingress update reaches the host and destination
// reconcilers unless it changed the status alone, as the Ingress
// reconciler's own status patch does: each such patch reconciled the
// Ingress's hosts again, when their objects might not be in the cache yet
// (each read from the API server then).
func TestNotStatusOnly(t *testing.T) {
	old := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "site", UID: "1", ResourceVersion: "10",
		Annotations: map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}}}
	old.Spec.Rules = []networkingv1.IngressRule{{Host: "site.example.com"}}
	for _, tc := range []struct {
		name string
		edit func(*networkingv1.Ingress)
		want bool
	}{
		{"the status alone", func(ing *networkingv1.Ingress) {
			ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.10"}}
		}, false},
		{"nothing (a resync)", func(ing *networkingv1.Ingress) { ing.ResourceVersion = old.ResourceVersion }, true},
		{"the spec", func(ing *networkingv1.Ingress) { ing.Spec.Rules[0].Host = "www.example.com" }, true},
		{"an annotation", func(ing *networkingv1.Ingress) { ing.Annotations = map[string]string{} }, true},
		{"a label", func(ing *networkingv1.Ingress) { ing.Labels = map[string]string{"team": "web"} }, true},
		{"the deletion timestamp", func(ing *networkingv1.Ingress) { ing.DeletionTimestamp = &metav1.Time{} }, true},
		{"the object (deleted and created again)", func(ing *networkingv1.Ingress) { ing.UID = "2" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ing := old.DeepCopy()
			ing.ResourceVersion = "11"
			tc.edit(ing)
			if got := notStatusOnly.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: ing}); got != tc.want {
				t.Errorf("an update of %s reaches the reconcilers: %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
