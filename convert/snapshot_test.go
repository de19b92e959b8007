package convert

import (
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestNewSnapshot(t *testing.T) {
	meta := func(namespace, name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: namespace, Name: name}
	}
	certificate := func(namespace, name, secretName string) *cmv1.Certificate {
		return &cmv1.Certificate{ObjectMeta: meta(namespace, name), Spec: cmv1.CertificateSpec{SecretName: secretName}}
	}
	objs := []runtime.Object{
		&networkingv1.Ingress{ObjectMeta: meta("default", "web")},
		&networkingv1.IngressClass{ObjectMeta: meta("", "istio")},
		&corev1.Service{ObjectMeta: meta("shop", "web")},
		&corev1.Secret{ObjectMeta: meta("istio-system", "web-tls")},
		certificate("istio-system", "web", "web-tls"),
		&corev1.Secret{ObjectMeta: meta("shop", "elsewhere-tls")},
		certificate("shop", "elsewhere", "elsewhere-issued"),
		certificate("istio-system", "issuing", "issued-tls"),
		certificate("istio-system", "unnamed", ""),
		&appsv1.Deployment{ObjectMeta: meta("default", "web")},
	}
	snap := NewSnapshot(objs, "istio-system")
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
		{secret: ""},                 // a Certificate without spec.secretName issues nothing
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

func TestNewSnapshotEmpty(t *testing.T) {
	snap := NewSnapshot(nil, "istio-system")
	if snap.Credentials == nil || snap.Credentials.SecretExists("x") {
		t.Errorf("empty snapshot credentials = %#v", snap.Credentials)
	}
	if res := DefaultSettings().Convert(snap); len(res.Gateways)+len(res.VirtualServices) != 0 {
		t.Errorf("empty snapshot converts to %d objects", len(res.Gateways)+len(res.VirtualServices))
	}
}
