package webhook_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/webhook"
)

// cause is the part of a metav1.StatusCause a test checks: the field and
// words its message must contain.
type cause struct {
	field    string
	contains []string
}

func TestValidator(t *testing.T) {
	deprecated := "metadata.annotations[kubernetes.io/ingress.class]: deprecated since Kubernetes 1.18; set spec.ingressClassName to an IngressClass whose controller is istio.io/ingress-controller instead"
	resourceBackend := func(ing *networkingv1.Ingress) {
		ing.Spec.Rules[0].HTTP.Paths[0].Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{
			APIGroup: ptr.To("k8s.example.com"), Kind: "StorageBucket", Name: "static-assets",
		}}
	}
	regexCause := cause{"spec.rules[0].http.paths[0].path", []string{`"/api/(.*)"`, "regular-expression syntax", "use pathType: Prefix with path: /api"}}

	for _, tc := range []struct {
		name         string
		op           admissionv1.Operation
		dryRun       bool
		ing          *networkingv1.Ingress
		old          *networkingv1.Ingress // the stored Ingress of an update
		wantCauses   []cause               // nil: allowed
		wantWarnings []string
		wantReason   string
	}{{
		name:         "seed: allowed, with the annotation's deprecation warning",
		op:           admissionv1.Create,
		ing:          ingress(t, seed),
		wantWarnings: []string{deprecated},
		wantReason:   "valid",
	}, {
		name:       "seed with ingressClassName: allowed without warnings",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassName("istio")),
		wantReason: "valid",
	}, {
		name:         "regex path: denied naming the field, the value and the fix",
		op:           admissionv1.Create,
		ing:          ingress(t, seed, withPath("/api/(.*)", pathType(networkingv1.PathTypeImplementationSpecific))),
		wantCauses:   []cause{regexCause},
		wantWarnings: []string{deprecated},
		wantReason:   "invalid",
	}, {
		name:         "update validated like create",
		op:           admissionv1.Update,
		ing:          ingress(t, seed, withPath("/api/(.*)", pathType(networkingv1.PathTypeImplementationSpecific))),
		wantCauses:   []cause{regexCause},
		wantWarnings: []string{deprecated},
		wantReason:   "invalid",
	}, {
		// An Ingress in Terminating whose TLS Secret has gone since it was
		// admitted: removing its finalizer must not be refused.
		name:         "update of an Ingress being deleted: allowed, its errors as warnings",
		op:           admissionv1.Update,
		ing:          ingress(t, seed, withClassName("istio"), withTLS("gone-tls"), beingDeleted),
		wantWarnings: []string{`not refused because the Ingress is being deleted: spec.tls[0].secretName: Invalid value: "gone-tls": no Secret of that name in namespace "istio-system": Istio's ingress gateway reads TLS certificates only from its own namespace "istio-system", never from the Ingress's namespace "default"; create it there (kubectl -n istio-system create secret tls gone-tls --cert=FILE --key=FILE) or issue it with a cert-manager Certificate in istio-system whose spec.secretName is "gone-tls"`},
		wantReason:   "deleting",
	}, {
		// Its TLS Secret deleted since it was admitted: a label or a
		// finalizer can still change.
		name:         "update that keeps the stored Ingress's error: allowed, the error as a warning",
		op:           admissionv1.Update,
		old:          ingress(t, seed, withClassName("istio"), withTLS("gone-tls")),
		ing:          ingress(t, seed, withClassName("istio"), withTLS("gone-tls"), func(ing *networkingv1.Ingress) { ing.Labels = map[string]string{"team": "a"} }),
		wantWarnings: []string{`not refused because the stored Ingress has it too: spec.tls[0].secretName: Invalid value: "gone-tls": no Secret of that name in namespace "istio-system": Istio's ingress gateway reads TLS certificates only from its own namespace "istio-system", never from the Ingress's namespace "default"; create it there (kubectl -n istio-system create secret tls gone-tls --cert=FILE --key=FILE) or issue it with a cert-manager Certificate in istio-system whose spec.secretName is "gone-tls"`},
		wantReason:   "grandfathered",
	}, {
		name:         "update that adds an error to a stored one: denied for the new one only",
		op:           admissionv1.Update,
		old:          ingress(t, seed, withClassName("istio"), withTLS("gone-tls")),
		ing:          ingress(t, seed, withClassName("istio"), withTLS("gone-tls"), withPath("/api/(.*)", pathType(networkingv1.PathTypeImplementationSpecific))),
		wantCauses:   []cause{regexCause},
		wantWarnings: []string{`not refused because the stored Ingress has it too: spec.tls[0].secretName: Invalid value: "gone-tls": no Secret of that name in namespace "istio-system": Istio's ingress gateway reads TLS certificates only from its own namespace "istio-system", never from the Ingress's namespace "default"; create it there (kubectl -n istio-system create secret tls gone-tls --cert=FILE --key=FILE) or issue it with a cert-manager Certificate in istio-system whose spec.secretName is "gone-tls"`},
		wantReason:   "invalid",
	}, {
		name:       "update whose stored Ingress was of another class: judged like a create",
		op:         admissionv1.Update,
		old:        ingress(t, seed, withClassName("nginx"), withTLS("gone-tls")),
		ing:        ingress(t, seed, withClassName("istio"), withTLS("gone-tls")),
		wantCauses: []cause{{"spec.tls[0].secretName", []string{`"gone-tls"`}}},
		wantReason: "invalid",
	}, {
		name:         "update of an Ingress over the route limit that keeps its routes: allowed",
		op:           admissionv1.Update,
		old:          ingress(t, seed, withClassName("istio"), morePaths(convert.MaxRoutesPerHost)),
		ing:          ingress(t, seed, withClassName("istio"), morePaths(convert.MaxRoutesPerHost), func(ing *networkingv1.Ingress) { ing.Labels = map[string]string{"team": "a"} }),
		wantWarnings: []string{`not refused because the stored Ingress has it too: spec.rules[0].host: Invalid value: 4001: host "httpbin.example.com" would get 4001 routes (4001 from this Ingress, 0 from other Ingresses), over the limit of 4000 that keeps its generated VirtualService within what the API server stores; spread the paths over more hosts, or use Prefix paths that cover several`},
		wantReason:   "grandfathered",
	}, {
		name:       "update of an Ingress over the route limit that adds a route: denied",
		op:         admissionv1.Update,
		old:        ingress(t, seed, withClassName("istio"), morePaths(convert.MaxRoutesPerHost)),
		ing:        ingress(t, seed, withClassName("istio"), morePaths(convert.MaxRoutesPerHost+1)),
		wantCauses: []cause{{"spec.rules[0].host", []string{"4002 routes (4002 from this Ingress", "limit of 4000"}}},
		wantReason: "invalid",
	}, {
		name:         "dry-run answered the same",
		op:           admissionv1.Create,
		dryRun:       true,
		ing:          ingress(t, seed, withPath("/api/(.*)", pathType(networkingv1.PathTypeImplementationSpecific))),
		wantCauses:   []cause{regexCause},
		wantWarnings: []string{deprecated},
		wantReason:   "invalid",
	}, {
		name: "TLS Secret missing from the gateway namespace: denied",
		op:   admissionv1.Create,
		ing:  ingress(t, seed, withClassName("istio"), withTLS("other-tls")),
		wantCauses: []cause{{"spec.tls[0].secretName", []string{`"other-tls"`, `namespace "istio-system"`,
			`never from the Ingress's namespace "default"`, "kubectl -n istio-system create secret tls other-tls", "cert-manager Certificate"}}},
		wantReason: "invalid",
	}, {
		name:       "TLS Secret present in the gateway namespace: allowed",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassName("istio"), withTLS("httpbin-tls")),
		wantReason: "valid",
	}, {
		name:       "TLS Secret being issued by a Certificate: allowed",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassName("istio"), withTLS("issued-tls")),
		wantReason: "valid",
	}, {
		name:       "TLS Secret declared for another namespace: denied",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassName("istio"), withTLS("team-tls")),
		wantReason: "invalid",
		wantCauses: []cause{{"spec.tls[0].secretName", []string{`Invalid value: "team-tls"`, "ingressguard.io/allowed-namespaces", `"default" is not among them`, `add "default" to that annotation`}}},
	}, {
		name:       "TLS entry without secretName: denied",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassName("istio"), withTLS("")),
		wantCauses: []cause{{"spec.tls[0].secretName", []string{"Required value", "drops a tls entry without secretName"}}},
		wantReason: "invalid",
	}, {
		name:       "resource backend: denied",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassName("istio"), resourceBackend),
		wantCauses: []cause{{"spec.rules[0].http.paths[0].backend.resource", []string{"ignores resource backends", "use backend.service"}}},
		wantReason: "invalid",
	}, {
		name: "every problem is its own cause",
		op:   admissionv1.Create,
		ing: ingress(t, seed, withClassName("istio"), withTLS(""), resourceBackend, func(ing *networkingv1.Ingress) {
			ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
				Path: "^/v1$", PathType: pathType(networkingv1.PathTypeExact),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "httpbin", Port: networkingv1.ServiceBackendPort{Number: 8000}}},
			})
		}),
		wantCauses: []cause{
			{"spec.rules[0].http.paths[0].backend.resource", nil},
			{"spec.rules[0].http.paths[1].path", []string{"use pathType: Exact with path: /v1"}},
			{"spec.tls[0].secretName", nil},
		},
		wantReason: "invalid",
	}, {
		name:       "regex path of another class annotation: allowed untouched",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassAnnotation("nginx"), withPath("/api/(.*)", pathType(networkingv1.PathTypeImplementationSpecific))),
		wantReason: "not-ours",
	}, {
		name:       "regex path of another controller's IngressClass: allowed untouched",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withClassName("nginx"), withPath("/api/(.*)", pathType(networkingv1.PathTypeImplementationSpecific))),
		wantReason: "not-ours",
	}, {
		name:       "delete of an invalid Ingress: allowed",
		op:         admissionv1.Delete,
		ing:        ingress(t, seed, withTLS("")),
		wantReason: "delete",
	}, {
		name:       "delete without any object: allowed",
		op:         admissionv1.Delete,
		wantReason: "delete",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			v := webhook.NewValidator(convert.DefaultSettings(), cluster())
			result := "allowed"
			if tc.wantCauses != nil {
				result = "denied"
			}
			before := counted(t, "validate", result, tc.wantReason)
			req := request(t, tc.op, tc.ing)
			req.DryRun = ptr.To(tc.dryRun)
			if tc.old != nil {
				req.OldObject = request(t, admissionv1.Delete, tc.old).OldObject
			}
			resp := v.Handle(t.Context(), req)
			if err := resp.Complete(req); err != nil {
				t.Fatal(err)
			}
			if len(resp.Patch) != 0 {
				t.Errorf("validation patched: %s", resp.Patch)
			}
			if !reflect.DeepEqual(resp.Warnings, tc.wantWarnings) && len(resp.Warnings)+len(tc.wantWarnings) > 0 {
				t.Errorf("warnings:\n got %q\nwant %q", resp.Warnings, tc.wantWarnings)
			}
			if d := counted(t, "validate", result, tc.wantReason) - before; d != 1 {
				t.Errorf("ingressguard_admission_requests_total{webhook=validate,result=%s,reason=%s} grew by %v, want 1", result, tc.wantReason, d)
			}
			if tc.wantCauses == nil {
				if !resp.Allowed {
					t.Fatalf("denied: %+v", resp.Result)
				}
				return
			}
			if resp.Allowed {
				t.Fatal("allowed, want denied")
			}
			st := resp.Result
			if st.Code != http.StatusUnprocessableEntity || st.Reason != metav1.StatusReasonInvalid || st.Status != metav1.StatusFailure {
				t.Errorf("status code %d, reason %q, status %q; want 422 Invalid Failure", st.Code, st.Reason, st.Status)
			}
			if st.Details == nil || st.Details.Kind != "Ingress" || st.Details.Group != "networking.k8s.io" || st.Details.Name != tc.ing.Name {
				t.Fatalf("details = %+v, want Ingress.networking.k8s.io %q", st.Details, tc.ing.Name)
			}
			if len(st.Details.Causes) != len(tc.wantCauses) {
				t.Fatalf("causes:\n got %+v\nwant %+v", st.Details.Causes, tc.wantCauses)
			}
			for i, want := range tc.wantCauses {
				got := st.Details.Causes[i]
				if got.Field != want.field {
					t.Errorf("cause %d field = %q, want %q", i, got.Field, want.field)
				}
				for _, s := range want.contains {
					if !strings.Contains(got.Message, s) {
						t.Errorf("cause %d message %q does not say %q", i, got.Message, s)
					}
				}
				if !strings.Contains(st.Message, got.Field) {
					t.Errorf("status message %q does not name field %s", st.Message, got.Field)
				}
			}
		})
	}
}

// beingDeleted sets the deletion timestamp, as the API server does when a
// delete waits for finalizers.
func beingDeleted(ing *networkingv1.Ingress) {
	ing.DeletionTimestamp = &metav1.Time{Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	ing.Finalizers = []string{"example.com/cleanup"}
}

// morePaths adds n Exact paths to the first rule.
func morePaths(n int) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) {
		for i := range n {
			ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{
				Path: fmt.Sprintf("/p%d", i), PathType: pathType(networkingv1.PathTypeExact),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "httpbin", Port: networkingv1.ServiceBackendPort{Number: 8000}}},
			})
		}
	}
}
