package webhook_test

import (
	"fmt"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/webhook"
)

// BenchmarkHandlers measures one admission of the seed's Ingress, without
// pathType, by each handler, on a host that 50 other Ingresses of ours
// share (validation analyses each of them for conflicting routes).
func BenchmarkHandlers(b *testing.B) {
	snap := convert.Snapshot{IngressClasses: []*networkingv1.IngressClass{{Spec: networkingv1.IngressClassSpec{Controller: convert.ControllerName}}}}
	snap.IngressClasses[0].Name = "istio"
	for i := range 50 {
		snap.Ingresses = append(snap.Ingresses, ingress(b, seed, withClassName("istio"), func(ing *networkingv1.Ingress) {
			ing.Name = fmt.Sprintf("other-%d", i)
			ing.Spec.Rules[0].HTTP.Paths[0].Path = fmt.Sprintf("/svc%d", i)
		}))
	}
	c := convert.NewIndex(snap)
	s := convert.DefaultSettings()
	mutate, validate := webhook.NewMutator(s, c), webhook.NewValidator(s, c)
	req := request(b, admissionv1.Create, ingress(b, seed, noPathType))
	b.Run("mutate", func(b *testing.B) {
		for b.Loop() {
			if resp := mutate.Handle(b.Context(), req); len(resp.Patches) != 1 {
				b.Fatalf("patches: %+v", resp.Patches)
			}
		}
	})
	valid := request(b, admissionv1.Create, ingress(b, seed))
	b.Run("validate", func(b *testing.B) {
		for b.Loop() {
			if resp := validate.Handle(b.Context(), valid); !resp.Allowed {
				b.Fatalf("denied: %+v", resp.Result)
			}
		}
	})
}
