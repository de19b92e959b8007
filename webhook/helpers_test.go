package webhook_test

import (
	"encoding/json"
	"testing"

	dto "github.com/prometheus/client_model/go"
	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/convert"
)

// seed is the first Ingress of the Istio task page.
const seed = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress
  namespace: default
  annotations:
    kubernetes.io/ingress.class: istio
spec:
  rules:
  - host: httpbin.example.com
    http:
      paths:
      - path: /status
        pathType: Prefix
        backend:
          service:
            name: httpbin
            port:
              number: 8000
`

// ingress decodes a YAML Ingress and applies edits to it.
func ingress(t testing.TB, y string, edits ...func(*networkingv1.Ingress)) *networkingv1.Ingress {
	t.Helper()
	var ing networkingv1.Ingress
	if err := yaml.UnmarshalStrict([]byte(y), &ing); err != nil {
		t.Fatalf("test Ingress: %v", err)
	}
	for _, e := range edits {
		e(&ing)
	}
	return &ing
}

// Edits of test Ingresses.
func path0(f func(*networkingv1.HTTPIngressPath)) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) { f(&ing.Spec.Rules[0].HTTP.Paths[0]) }
}

func noPathType(ing *networkingv1.Ingress) {
	path0(func(p *networkingv1.HTTPIngressPath) { p.PathType = nil })(ing)
}

func withPath(path string, pt *networkingv1.PathType) func(*networkingv1.Ingress) {
	return path0(func(p *networkingv1.HTTPIngressPath) { p.Path, p.PathType = path, pt })
}

func withClassAnnotation(class string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) { ing.Annotations[convert.ClassAnnotation] = class }
}

func withClassName(name string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) {
		delete(ing.Annotations, convert.ClassAnnotation)
		ing.Spec.IngressClassName = &name
	}
}

func withTLS(secretName string) func(*networkingv1.Ingress) {
	return func(ing *networkingv1.Ingress) {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"httpbin.example.com"}, SecretName: secretName}}
	}
}

func pathType(pt networkingv1.PathType) *networkingv1.PathType { return &pt }

// cluster is the cluster state of the handler tests: the istio and nginx
// IngressClasses, Secret "httpbin-tls" in the gateway namespace and a
// Certificate "httpbin-cert" issuing Secret "issued-tls" there, both for
// namespace "default" (ingressguard.io/allowed-namespaces), and Secret
// "team-tls" for namespace "team-a" only.
func cluster() *convert.Index {
	return convert.NewIndex(convert.Snapshot{
		IngressClasses: []*networkingv1.IngressClass{
			{ObjectMeta: metav1.ObjectMeta{Name: "istio"}, Spec: networkingv1.IngressClassSpec{Controller: convert.ControllerName}},
			{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
		},
		Credentials: convert.StaticCredentials{
			Secrets:      map[string]bool{"httpbin-tls": true, "team-tls": true},
			Certificates: map[string]string{"issued-tls": "httpbin-cert"},
			Uses: map[string]convert.CredentialUse{
				"httpbin-tls": {Declared: true, Namespaces: "default"},
				"issued-tls":  {Declared: true, Namespaces: "default", Certificate: "httpbin-cert", DNSNames: []string{"httpbin.example.com"}},
				"team-tls":    {Declared: true, Namespaces: "team-a"},
			},
		},
	})
}

// request is an admission request for obj as the API server sends it.
func request(t testing.TB, op admissionv1.Operation, obj *networkingv1.Ingress) admission.Request {
	t.Helper()
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       types.UID("uid-1"),
		Kind:      metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
		Resource:  metav1.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
		Operation: op,
	}}
	if obj != nil {
		req.Name, req.Namespace = obj.Name, obj.Namespace
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if op == admissionv1.Delete {
			req.OldObject = runtime.RawExtension{Raw: raw}
		} else {
			req.Object = runtime.RawExtension{Raw: raw}
		}
	}
	return req
}

// counted returns ingressguard_admission_requests_total for the labels.
func counted(t *testing.T, webhook, result, reason string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "ingressguard_admission_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labels(m) == [3]string{webhook, result, reason} {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labels(m *dto.Metric) [3]string {
	var l [3]string
	for _, p := range m.GetLabel() {
		switch p.GetName() {
		case "webhook":
			l[0] = p.GetValue()
		case "result":
			l[1] = p.GetValue()
		case "reason":
			l[2] = p.GetValue()
		}
	}
	return l
}
