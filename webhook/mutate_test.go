package webhook_test

import (
	"encoding/json"
	"reflect"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/webhook"
)

// patchOp is one JSON patch operation as the API server reads it.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func TestMutator(t *testing.T) {
	twoRules := func(ing *networkingv1.Ingress) {
		p := ing.Spec.Rules[0].HTTP.Paths[0]
		paths := func(specs ...[2]string) []networkingv1.HTTPIngressPath {
			var out []networkingv1.HTTPIngressPath
			for _, s := range specs {
				q := p
				q.Path, q.PathType = s[0], nil
				if s[1] != "" {
					q.PathType = pathType(networkingv1.PathType(s[1]))
				}
				out = append(out, q)
			}
			return out
		}
		ing.Spec.Rules = []networkingv1.IngressRule{
			{Host: "a.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: paths([2]string{"/exact", "Exact"}, [2]string{"/api/*", ""}, [2]string{"/plain/", ""}),
			}}},
			{Host: "b.example.com"},
			{Host: "c.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: paths([2]string{"", ""}, [2]string{"/legacy.*", ""}, [2]string{"/prefix", "Prefix"}),
			}}},
		}
	}

	for _, tc := range []struct {
		name         string
		op           admissionv1.Operation
		ing          *networkingv1.Ingress
		wantPatch    []patchOp
		wantWarnings []string
		wantReason   string
	}{{
		name: "seed without pathType becomes Exact, with a warning",
		op:   admissionv1.Create,
		ing:  ingress(t, seed, noPathType),
		wantPatch: []patchOp{
			{"add", "/spec/rules/0/http/paths/0/pathType", "Exact"},
		},
		wantWarnings: []string{
			`spec.rules[0].http.paths[0].pathType: defaulted to Exact for path "/status": Istio treats a plain path as an exact match, so sub-paths such as "/status/example" are not routed; set pathType: Prefix to match them`,
		},
		wantReason: "pathtype-defaulted",
	}, {
		name: "only missing pathTypes are set, each at its own index",
		op:   admissionv1.Update,
		ing:  ingress(t, seed, twoRules),
		wantPatch: []patchOp{
			{"add", "/spec/rules/0/http/paths/1/pathType", "ImplementationSpecific"},
			{"add", "/spec/rules/0/http/paths/2/pathType", "Exact"},
			{"add", "/spec/rules/2/http/paths/0/pathType", "ImplementationSpecific"},
			{"add", "/spec/rules/2/http/paths/1/pathType", "ImplementationSpecific"},
		},
		wantWarnings: []string{
			`spec.rules[0].http.paths[1].pathType: defaulted to ImplementationSpecific for path "/api/*": this keeps Istio's legacy prefix meaning, the same as pathType: Prefix with path: /api`,
			`spec.rules[0].http.paths[2].pathType: defaulted to Exact for path "/plain/": Istio treats a plain path as an exact match, so sub-paths such as "/plain/example" are not routed; set pathType: Prefix to match them`,
			`spec.rules[2].http.paths[0].pathType: defaulted to ImplementationSpecific for path "": this keeps Istio's legacy prefix meaning, the same as pathType: Prefix with path: /`,
			`spec.rules[2].http.paths[1].pathType: defaulted to ImplementationSpecific for path "/legacy.*": this keeps Istio's legacy prefix meaning, the same as pathType: Prefix with path: /legacy`,
		},
		wantReason: "pathtype-defaulted",
	}, {
		name:       "every pathType set: no patch",
		op:         admissionv1.Create,
		ing:        ingress(t, seed),
		wantReason: "unchanged",
	}, {
		name:       "a regex path is defaulted, not rewritten, without advice (validation rejects it)",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, withPath("/api/(.*)", nil)),
		wantPatch:  []patchOp{{"add", "/spec/rules/0/http/paths/0/pathType", "Exact"}},
		wantReason: "pathtype-defaulted",
	}, {
		name:      "ingressClassName of an istio.io/ingress-controller class is ours",
		op:        admissionv1.Create,
		ing:       ingress(t, seed, noPathType, withClassName("istio")),
		wantPatch: []patchOp{{"add", "/spec/rules/0/http/paths/0/pathType", "Exact"}},
		wantWarnings: []string{
			`spec.rules[0].http.paths[0].pathType: defaulted to Exact for path "/status": Istio treats a plain path as an exact match, so sub-paths such as "/status/example" are not routed; set pathType: Prefix to match them`,
		},
		wantReason: "pathtype-defaulted",
	}, {
		name:       "another class annotation: untouched",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, noPathType, withClassAnnotation("nginx")),
		wantReason: "not-ours",
	}, {
		name:       "IngressClass of another controller: untouched",
		op:         admissionv1.Create,
		ing:        ingress(t, seed, noPathType, withClassName("nginx")),
		wantReason: "not-ours",
	}, {
		name:       "delete: untouched",
		op:         admissionv1.Delete,
		ing:        ingress(t, seed, noPathType),
		wantReason: "operation",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			m := webhook.NewMutator(convert.DefaultSettings(), cluster())
			result := "allowed"
			if tc.wantPatch != nil {
				result = "patched"
			}
			before := counted(t, "mutate", result, tc.wantReason)
			req := request(t, tc.op, tc.ing)
			resp := m.Handle(t.Context(), req)
			if err := resp.Complete(req); err != nil {
				t.Fatal(err)
			}
			if !resp.Allowed {
				t.Fatalf("not allowed: %+v", resp.Result)
			}
			var got []patchOp
			if len(resp.Patch) > 0 {
				if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
					t.Errorf("patch type = %v, want JSONPatch", resp.PatchType)
				}
				if err := json.Unmarshal(resp.Patch, &got); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got, tc.wantPatch) {
				t.Errorf("patch:\n got %+v\nwant %+v", got, tc.wantPatch)
			}
			if !reflect.DeepEqual(resp.Warnings, tc.wantWarnings) {
				t.Errorf("warnings:\n got %q\nwant %q", resp.Warnings, tc.wantWarnings)
			}
			if d := counted(t, "mutate", result, tc.wantReason) - before; d != 1 {
				t.Errorf("ingressguard_admission_requests_total{webhook=mutate,result=%s,reason=%s} grew by %v, want 1", result, tc.wantReason, d)
			}
			if len(resp.Patch) == 0 {
				return
			}

			// The API server applies the patch and calls the webhook again
			// (reinvocation, or a later update): nothing more to change, and
			// nothing but pathType changed.
			patch, err := jsonpatch.DecodePatch(resp.Patch)
			if err != nil {
				t.Fatal(err)
			}
			patched, err := patch.Apply(req.Object.Raw)
			if err != nil {
				t.Fatalf("applying the patch: %v", err)
			}
			if got, want := withoutPathTypes(t, patched), withoutPathTypes(t, req.Object.Raw); !reflect.DeepEqual(got, want) {
				t.Errorf("the patch changed more than pathType:\n got %v\nwant %v", got, want)
			}
			var out networkingv1.Ingress
			if err := json.Unmarshal(patched, &out); err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for i := range r.HTTP.Paths {
					if r.HTTP.Paths[i].PathType == nil {
						t.Errorf("rule %q path %d still has no pathType", r.Host, i)
					}
				}
			}
			req.Object.Raw = patched
			again := m.Handle(t.Context(), req)
			if len(again.Patches) != 0 || len(again.Warnings) != 0 {
				t.Errorf("second run: patches %+v, warnings %q; want none", again.Patches, again.Warnings)
			}
		})
	}
}

// withoutPathTypes decodes an Ingress as plain JSON, without the pathType
// of any path.
func withoutPathTypes(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	rules, _ := obj["spec"].(map[string]any)["rules"].([]any)
	for _, r := range rules {
		http, _ := r.(map[string]any)["http"].(map[string]any)
		paths, _ := http["paths"].([]any)
		for _, p := range paths {
			delete(p.(map[string]any), "pathType")
		}
	}
	return obj
}
