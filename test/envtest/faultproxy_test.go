package envtest

import (
	"net/http/httptest"
	"testing"
)

// TestParse: the proxy's rules see the method, group, resource, namespace,
// name and subresource of each kind of API path clients send.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		want           Request
	}{
		{"PUT", "/apis/networking.istio.io/v1/namespaces/istio-system/virtualservices/a-b",
			Request{Method: "PUT", Group: "networking.istio.io", Resource: "virtualservices", Namespace: "istio-system", Name: "a-b"}},
		{"PATCH", "/apis/networking.k8s.io/v1/namespaces/web/ingresses/site/status",
			Request{Method: "PATCH", Group: "networking.k8s.io", Resource: "ingresses", Namespace: "web", Name: "site", Subresource: "status"}},
		{"GET", "/apis/networking.istio.io/v1/namespaces/istio-system/gateways?watch=true&resourceVersion=5",
			Request{Method: "GET", Group: "networking.istio.io", Resource: "gateways", Namespace: "istio-system", Watch: true}},
		{"GET", "/api/v1/watch/namespaces/web/services",
			Request{Method: "GET", Resource: "services", Namespace: "web", Watch: true}},
		{"GET", "/api/v1/services", Request{Method: "GET", Resource: "services"}},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/istio-system/leases/ingressguard",
			Request{Method: "PUT", Group: "coordination.k8s.io", Resource: "leases", Namespace: "istio-system", Name: "ingressguard"}},
		{"DELETE", "/apis/networking.k8s.io/v1/ingressclasses/istio",
			Request{Method: "DELETE", Group: "networking.k8s.io", Resource: "ingressclasses", Name: "istio"}},
		{"GET", "/api/v1/namespaces/web", Request{Method: "GET", Resource: "namespaces", Name: "web"}},
		{"PUT", "/api/v1/namespaces/web/finalize", Request{Method: "PUT", Resource: "namespaces", Name: "web", Subresource: "finalize"}},
		{"GET", "/version", Request{Method: "GET"}},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			if got := parse(httptest.NewRequest(tc.method, tc.target, nil)); got != tc.want {
				t.Errorf("parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}
