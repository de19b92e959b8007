package webhook_test

import (
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/webhook"
)

// TestIntruderUpdates: an Ingress of team-b that claims team-a's host and
// exists anyway (admitted while the webhook was away) may still be
// updated, its refusal grandfathered as a warning, so it can be fixed or
// removed; it can never add a claim on the host, nor can a new one be
// created. The reconciler leaves it out meanwhile (controller tests).
func TestIntruderUpdates(t *testing.T) {
	in := func(ns string, minute int) func(*networkingv1.Ingress) {
		return func(ing *networkingv1.Ingress) {
			ing.Namespace, ing.Name = ns, ns+"-app"
			ing.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC))
		}
	}
	owner := ingress(t, seed, withClassName("istio"), in("team-a", 0))
	stored := ingress(t, seed, withClassName("istio"), in("team-b", 1))
	cluster := convert.NewIndex(convert.Snapshot{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "istio"}, Spec: networkingv1.IngressClassSpec{Controller: convert.ControllerName}}},
		Ingresses:      []*networkingv1.Ingress{owner, stored},
	})
	v := webhook.NewValidator(convert.DefaultSettings(), cluster)
	secondRule := func(ing *networkingv1.Ingress) { ing.Spec.Rules = append(ing.Spec.Rules, ing.Spec.Rules[0]) }
	for _, tc := range []struct {
		name    string
		op      admissionv1.Operation
		ing     *networkingv1.Ingress
		allowed bool
		say     string // in the warnings when allowed, in the refusal when not
	}{
		{"a label: allowed, the refusal as a warning", admissionv1.Update,
			ingress(t, seed, withClassName("istio"), in("team-b", 1), func(ing *networkingv1.Ingress) { ing.Labels = map[string]string{"team": "b"} }),
			true, `not refused because the stored Ingress has it too: spec.rules[0].host: Invalid value: "httpbin.example.com": host "httpbin.example.com" is already served by an Ingress in another namespace`},
		{"another rule for the host: denied", admissionv1.Update, ingress(t, seed, withClassName("istio"), in("team-b", 1), secondRule),
			false, `spec.rules[1].host: Invalid value: "httpbin.example.com"`},
		{"a new Ingress of the intruder's namespace: denied", admissionv1.Create, ingress(t, seed, withClassName("istio"), in("team-b", 2), func(ing *networkingv1.Ingress) { ing.Name = "another" }),
			false, `spec.rules[0].host: Invalid value: "httpbin.example.com"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(t, tc.op, tc.ing)
			if tc.op == admissionv1.Update {
				req.OldObject = request(t, admissionv1.Delete, stored).OldObject
			}
			resp := v.Handle(t.Context(), req)
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, tc.allowed, resp.Result)
			}
			said := strings.Join(resp.Warnings, "\n")
			if !tc.allowed {
				said = resp.Result.Message
			}
			if !strings.Contains(said, tc.say) {
				t.Errorf("the answer does not say %q:\n%s", tc.say, said)
			}
		})
	}
}
