package convert

import (
	"fmt"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkRouteOrder measures collecting and ordering the routes of one
// host (SPEC section 2), which the validating webhook does for each host of
// an Ingress and the reconciler for each VirtualService: routes of several
// Ingresses of different ages, of every path type and of mixed lengths,
// five per Ingress.
func BenchmarkRouteOrder(b *testing.B) {
	s := DefaultSettings()
	ix := NewIndex(Snapshot{})
	types := []networkingv1.PathType{networkingv1.PathTypePrefix, networkingv1.PathTypeExact, networkingv1.PathTypeImplementationSpecific}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{10, 100, 1000} {
		var as []*Analysis
		for i := range n / 5 {
			var paths []networkingv1.HTTPIngressPath
			for j := range 5 {
				pt := types[(i+j)%len(types)]
				paths = append(paths, networkingv1.HTTPIngressPath{
					Path: fmt.Sprintf("/team%d/%s", i%7, []string{"", "api", "api/v1", "static/css", "healthz"}[j]), PathType: &pt,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: fmt.Sprintf("svc-%d", i), Port: networkingv1.ServiceBackendPort{Number: 80}}},
				})
			}
			ing := &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("team-%d", i%7), Name: fmt.Sprintf("ing-%d", i), CreationTimestamp: metav1.NewTime(base.Add(time.Duration(i%13) * time.Minute))},
				Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "shared.example.com",
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}}},
			}
			as = append(as, s.Analyze(ing, ix))
		}
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rs := hostRoutes("shared.example.com", as); len(rs) != n {
					b.Fatalf("%d routes, want %d", len(rs), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/route")
		})
	}
}
