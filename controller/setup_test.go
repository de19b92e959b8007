package controller

import (
	"testing"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
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

// TestNotEcho: the watch event that brings this process's own last write
// of a generated object does not reconcile its host again, once; any
// other event of it does.
func TestNotEcho(t *testing.T) {
	vs := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "site", ResourceVersion: "7"}}
	other := vs.DeepCopy()
	other.ResourceVersion = "8"
	for _, tc := range []struct {
		name  string
		wrote string // the resourceVersion this process wrote; "" for none
		event []*istionet.VirtualService
		want  []bool
	}{
		{"the write's own event, then a resync of it", "7", []*istionet.VirtualService{vs, vs}, []bool{false, true}},
		{"another version first", "7", []*istionet.VirtualService{other, vs}, []bool{true, false}},
		{"nothing written", "", []*istionet.VirtualService{vs}, []bool{true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapper{w: &writer{}}
			if tc.wrote != "" {
				m.w.wrote.Store("VirtualService/site", &written{version: tc.wrote})
			}
			p := m.notEcho("VirtualService")
			for i, o := range tc.event {
				if got := p.Update(event.UpdateEvent{ObjectOld: o, ObjectNew: o}); got != tc.want[i] {
					t.Errorf("event %d (version %s) reconciles the host: %v, want %v", i, o.ResourceVersion, got, tc.want[i])
				}
			}
		})
	}
}
