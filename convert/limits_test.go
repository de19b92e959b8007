package convert_test

import (
	"fmt"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// manyPaths is a rule for host with n Exact paths of about length bytes
// each.
func manyPaths(host string, n, length int) networkingv1.IngressRule {
	var ps []networkingv1.HTTPIngressPath
	for i := range n {
		p := fmt.Sprintf("/p%d", i)
		p += strings.Repeat("x", max(0, length-len(p)))
		ps = append(ps, path(p, exact, backend("web", 80)))
	}
	return rule(host, ps...)
}

// TestHostLimits: an Ingress that would take a host's objects past what
// the API server stores is refused, counting the routes other Ingresses
// already have there, and Validate and Convert agree on it.
func TestHostLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ings  []*networkingv1.Ingress
		want  string // in the error of the last Ingress; "" for none
		field string
	}{{
		name: "at the route limit",
		ings: []*networkingv1.Ingress{ingress("a", "big", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{manyPaths("a.example.com", convert.MaxRoutesPerHost, 8)}})},
	}, {
		name:  "one path over it",
		ings:  []*networkingv1.Ingress{ingress("a", "big", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{manyPaths("a.example.com", convert.MaxRoutesPerHost+1, 8)}})},
		want:  fmt.Sprintf(`host "a.example.com" would get 4001 routes (4001 from this Ingress, 0 from other Ingresses), over the limit of %d`, convert.MaxRoutesPerHost),
		field: "spec.rules[0].host",
	}, {
		name: "over it with another tenant's routes",
		ings: []*networkingv1.Ingress{
			sharedWith("b", ingress("a", "first", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{manyPaths("a.example.com", 3000, 8)}})),
			ingress("b", "second", 1, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("b.example.com"), manyPaths("a.example.com", 1001, 8)}}),
		},
		want:  `host "a.example.com" would get 4001 routes (1001 from this Ingress, 3000 from other Ingresses)`,
		field: "spec.rules[1].host",
	}, {
		name: "a wildcard host carries the rules without host",
		ings: []*networkingv1.Ingress{
			ingress("a", "any", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{manyPaths("", 2001, 8)}}),
			ingress("b", "wild", 1, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{manyPaths("*.example.com", 2000, 8)}}),
		},
		want:  `host "*.example.com" would get 4001 routes (2000 from this Ingress, 2001 from other Ingresses)`,
		field: "spec.rules[0].host",
	}, {
		name:  "few routes, too many bytes",
		ings:  []*networkingv1.Ingress{ingress("a", "long", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{manyPaths("a.example.com", 1000, 1200)}})},
		want:  fmt.Sprintf(`over the limit of %d that keeps it within what the API server stores`, convert.MaxVirtualServiceBytes),
		field: "spec.rules[0].host",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			snap := convert.Snapshot{Ingresses: tc.ings}
			last := tc.ings[len(tc.ings)-1]
			validated := convert.DefaultSettings().Validate(last, convert.NewIndex(snap))
			var converted convert.Diagnostics
			for _, r := range convert.DefaultSettings().Convert(snap).Reports {
				if r.Ingress.Name == last.Name {
					converted = r.Diagnostics
				}
			}
			for name, d := range map[string]convert.Diagnostics{"Validate": validated, "Convert": converted} {
				switch {
				case tc.want == "" && len(d.Errors) > 0:
					t.Errorf("%s: errors %v, want none", name, d.Errors)
				case tc.want != "" && (len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error(), tc.want) || d.Errors[0].Field != tc.field):
					t.Errorf("%s: errors %v, want one at %s saying %q", name, d.Errors, tc.field, tc.want)
				}
			}
		})
	}
}
