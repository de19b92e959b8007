package convert_test

import (
	"fmt"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// benchIngresses makes n realistic Ingresses spread over up to 1,000 hosts,
// each with TLS and three paths of different types.
func benchIngresses(n int) []*networkingv1.Ingress {
	ings := make([]*networkingv1.Ingress, n)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ings {
		host := fmt.Sprintf("app%d.example.com", i%1000)
		ings[i] = &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("ing-%d", i), Namespace: fmt.Sprintf("team-%d", i%50),
				CreationTimestamp: metav1.NewTime(base.Add(time.Duration(i) * time.Second)),
			},
			Spec: networkingv1.IngressSpec{
				IngressClassName: ptr("istio"),
				TLS:              []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "wildcard-example-com"}},
				Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
					HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
						{Path: fmt.Sprintf("/svc%d", i), PathType: ptr(networkingv1.PathTypePrefix), Backend: backend(fmt.Sprintf("svc-%d", i), 8080)},
						{Path: fmt.Sprintf("/svc%d/health", i), PathType: ptr(networkingv1.PathTypeExact), Backend: backend(fmt.Sprintf("svc-%d", i), 8081)},
						{Path: fmt.Sprintf("/legacy%d/*", i), Backend: backend(fmt.Sprintf("svc-%d", i), 8080)},
					}}}}},
			},
		}
	}
	return ings
}

// BenchmarkConvert converts whole snapshots; ns/ingress should stay flat as
// the cluster grows.
func BenchmarkConvert(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		snap := convert.Snapshot{
			Ingresses:      benchIngresses(n),
			IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "istio"}, Spec: networkingv1.IngressClassSpec{Controller: convert.ControllerName}}},
			Credentials:    convert.StaticCredentials{Secrets: map[string]bool{"wildcard-example-com": true}},
		}
		s := convert.DefaultSettings()
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := s.Convert(snap); len(res.Gateways) != min(n, 1000) {
					b.Fatalf("got %d gateways, want one per host: %d", len(res.Gateways), min(n, 1000))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/ingress")
		})
	}
}

// BenchmarkValidateManyPaths validates one Ingress with n paths on one
// host: the cost per path should stay flat as n grows (no pairwise
// comparison of routes), under and over the per-host route limit.
func BenchmarkValidateManyPaths(b *testing.B) {
	for _, n := range []int{1000, 4000, 16000} {
		b.Run(fmt.Sprintf("paths=%d", n), func(b *testing.B) {
			ing := ingress("a", "many", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{manyPaths("a.example.com", n, 8)}})
			ix := convert.NewIndex(convert.Snapshot{Ingresses: []*networkingv1.Ingress{ing}})
			s := convert.DefaultSettings()
			for b.Loop() {
				s.Validate(ing, ix)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/path")
		})
	}
}

// BenchmarkValidateAnnotations validates one Ingress without annotations
// and the same with ten ingress-nginx annotations: the first must cost
// what it cost before annotations were checked (README, Performance).
func BenchmarkValidateAnnotations(b *testing.B) {
	ten := nginx("rewrite-target", "/", "ssl-redirect", "true", "proxy-read-timeout", "600", "proxy-body-size", "8m",
		"enable-cors", "true", "cors-allow-origin", "https://shop.example.com", "limit-rps", "10", "affinity", "cookie",
		"session-cookie-name", "route", "use-regex", "false")
	for _, tc := range []struct {
		name string
		anns map[string]string
	}{{"annotations=0", nil}, {"nginx=10", ten}} {
		b.Run(tc.name, func(b *testing.B) {
			ing := benchIngresses(1)[0]
			ing.Annotations = tc.anns
			ix := convert.NewIndex(convert.Snapshot{Ingresses: []*networkingv1.Ingress{ing},
				Credentials: convert.StaticCredentials{Secrets: map[string]bool{"wildcard-example-com": true}}})
			s := convert.DefaultSettings()
			b.ReportAllocs()
			for b.Loop() {
				s.Validate(ing, ix)
			}
		})
	}
}
