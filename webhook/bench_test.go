package webhook_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

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

// reviewBody is the AdmissionReview the API server sends for a CREATE of
// ing, or with update an UPDATE of it from a copy with another label: with
// the user, the options and the managedFields it sets.
func reviewBody(b *testing.B, ing *networkingv1.Ingress, update bool) []byte {
	b.Helper()
	now := metav1.Now()
	ing = ing.DeepCopy()
	ing.UID, ing.Generation, ing.CreationTimestamp = "6a1c9d8e-0000-4000-8000-000000000001", 1, now
	ing.Labels = map[string]string{"app.kubernetes.io/name": "httpbin", "app.kubernetes.io/instance": "httpbin", "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "httpbin-1.4.2"}
	ing.Annotations = map[string]string{"meta.helm.sh/release-name": "httpbin", "meta.helm.sh/release-namespace": "default"}
	ing.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "helm", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "networking.k8s.io/v1", Time: &now,
		FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:annotations":{".":{},"f:meta.helm.sh/release-name":{},"f:meta.helm.sh/release-namespace":{}},"f:labels":{".":{},"f:app.kubernetes.io/instance":{},"f:app.kubernetes.io/managed-by":{},"f:app.kubernetes.io/name":{},"f:helm.sh/chart":{}}},"f:spec":{"f:ingressClassName":{},"f:rules":{},"f:tls":{}}}`)}}
	req := request(b, admissionv1.Create, ing)
	req.UserInfo = authenticationv1.UserInfo{Username: "system:serviceaccount:flux-system:helm-controller", Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	req.Options = runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"helm"}`)}
	if update {
		old := ing.DeepCopy()
		old.Labels["helm.sh/chart"] = "httpbin-1.4.1"
		raw, err := json.Marshal(old)
		if err != nil {
			b.Fatal(err)
		}
		req.Operation, req.OldObject = admissionv1.Update, runtime.RawExtension{Raw: raw}
		req.Options = runtime.RawExtension{Raw: []byte(`{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"helm"}`)}
	}
	body, err := json.Marshal(&admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  &req.AdmissionRequest,
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkReview measures one admission as the webhook server runs it:
// decode the AdmissionReview and the Ingress, judge it, encode the answer;
// validate-update is the review of an UPDATE, which carries the Ingress
// before the update too.
// The Ingress has TLS and shares its host with one other Ingress of ours,
// as in the load program's cluster; logs go to a JSON logger at info level,
// as in `ingressguard serve`. cpu-ns/op is the process's CPU time per
// review, garbage collection included.
func BenchmarkReview(b *testing.B) {
	logf.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	snap := convert.Snapshot{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "istio"}, Spec: networkingv1.IngressClassSpec{Controller: convert.ControllerName}}},
		Ingresses: []*networkingv1.Ingress{ingress(b, seed, withClassName("istio"), withTLS("httpbin-tls"), func(ing *networkingv1.Ingress) {
			ing.Name = "other"
			ing.Spec.Rules[0].HTTP.Paths[0].Path = "/api"
		})},
		Credentials: convert.StaticCredentials{
			Secrets: map[string]bool{"httpbin-tls": true},
			Uses:    map[string]convert.CredentialUse{"httpbin-tls": {Declared: true, Namespaces: "default"}},
		},
	}
	c := convert.NewIndex(snap)
	s := convert.DefaultSettings()
	handlers := webhook.Handlers(s, c)
	for _, tc := range []struct {
		name   string
		path   string
		edits  []func(*networkingv1.Ingress)
		update bool
		want   string
	}{
		{"mutate", webhook.MutatePath, []func(*networkingv1.Ingress){withClassName("istio"), withTLS("httpbin-tls"), noPathType}, false, `"patch":`},
		{"validate", webhook.ValidatePath, []func(*networkingv1.Ingress){withClassName("istio"), withTLS("httpbin-tls")}, false, `"allowed":true`},
		{"validate-update", webhook.ValidatePath, []func(*networkingv1.Ingress){withClassName("istio"), withTLS("httpbin-tls")}, true, `"allowed":true`},
	} {
		wh := handlers[tc.path]
		body := reviewBody(b, ingress(b, seed, tc.edits...), tc.update)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				wh.ServeHTTP(w, r)
				if !bytes.Contains(w.Body.Bytes(), []byte(tc.want)) {
					b.Fatalf("answer lacks %s: %s", tc.want, w.Body)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
