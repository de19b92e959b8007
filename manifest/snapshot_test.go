package manifest

import (
	"strings"
	"testing"

	"github.com/ingressguard/ingressguard/convert"
)

func TestSnapshotOf(t *testing.T) {
	input := ingressYAML + "---\n" + classYAML + "---\n" + serviceYAML + "---\n" + secretYAML + "---\n" + certificateYAML + `---
apiVersion: v1
kind: Secret
metadata:
  name: elsewhere-tls
  namespace: shop
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: elsewhere
  namespace: shop
spec:
  secretName: elsewhere-issued
  issuerRef: {name: ca}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: issuing
  namespace: istio-system
spec:
  secretName: issued-tls
  issuerRef: {name: ca}
`
	docs, _, err := Read("in.yaml", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	snap := SnapshotOf(docs, "istio-system")
	if len(snap.Ingresses) != 1 || len(snap.IngressClasses) != 1 || len(snap.Services) != 1 {
		t.Errorf("got %d Ingresses, %d IngressClasses, %d Services; want 1 of each",
			len(snap.Ingresses), len(snap.IngressClasses), len(snap.Services))
	}
	tests := []struct {
		secret      string
		exists      bool
		certificate string
	}{
		{secret: "web-tls", exists: true, certificate: "web"},
		{secret: "issued-tls", certificate: "issuing"},
		{secret: "elsewhere-tls"},    // a Secret outside the gateway namespace is not read
		{secret: "elsewhere-issued"}, // nor a Certificate outside it
		{secret: "web"},              // a Certificate counts by spec.secretName, not by name
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			if got := snap.Credentials.SecretExists(tt.secret); got != tt.exists {
				t.Errorf("SecretExists = %v, want %v", got, tt.exists)
			}
			cert, ok := snap.Credentials.CertificateFor(tt.secret)
			if ok != (tt.certificate != "") || cert != tt.certificate {
				t.Errorf("CertificateFor = %q, %v; want %q", cert, ok, tt.certificate)
			}
		})
	}
}

func TestSnapshotOfEmpty(t *testing.T) {
	snap := SnapshotOf(nil, "istio-system")
	if snap.Credentials == nil || snap.Credentials.SecretExists("x") {
		t.Errorf("empty snapshot credentials = %#v", snap.Credentials)
	}
	if res := convert.DefaultSettings().Convert(snap); len(res.Gateways)+len(res.VirtualServices) != 0 {
		t.Errorf("empty snapshot converts to %d objects", len(res.Gateways)+len(res.VirtualServices))
	}
}
