package lookup_test

import (
	"fmt"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/lookup"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// BenchmarkAdmissionView measures what the validating webhook asks of the
// cluster for one review, convert's Validate of a new Ingress with TLS on
// a host that two other teams' Ingresses share, against each view of the
// same cluster (200 Ingresses on 100 hosts, their TLS Secrets and one
// Certificate in the gateway namespace):
//
//   - index: convert.Index, the in-memory view the CLI builds, the
//     baseline: maps, no locks, nothing to decode;
//   - packed: the webhook's cache (lookup.Options.Packed), through
//     Informers.Admission, one view per review as the webhook makes it.
func BenchmarkAdmissionView(b *testing.B) {
	env := envtest.StartT(b, envtest.Options{})
	ctx := b.Context()
	create := creator(b, env)
	teams := []string{"team-a", "team-b", "team-c"}
	for _, ns := range teams {
		create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	class := envtest.IngressClassName
	prefix := networkingv1.PathTypePrefix
	ingress := func(ns, name, host, secret string, paths ...string) *networkingv1.Ingress {
		ing := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{convert.AnnotationShareHostWith: "*"}},
			Spec: networkingv1.IngressSpec{
				IngressClassName: &class,
				TLS:              []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: secret}},
				Rules:            []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}},
			},
		}
		for _, p := range paths {
			ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, networkingv1.HTTPIngressPath{Path: p, PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}})
		}
		return ing
	}
	const hosts = 100
	for k := range hosts {
		host, secret := fmt.Sprintf("app-%d.example.com", k), fmt.Sprintf("tls-%d", k)
		create(&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: envtest.IstioNamespace, Name: secret, Annotations: map[string]string{convert.AnnotationAllowedNamespaces: "*"}},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: []byte("cert"), corev1.TLSPrivateKeyKey: []byte("key")},
		})
		create(ingress(teams[0], fmt.Sprintf("web-%d", k), host, secret, "/", "/static"))
		create(ingress(teams[1], fmt.Sprintf("api-%d", k), host, secret, "/api", "/api/v1/healthz"))
	}
	create(&cmv1.Certificate{
		ObjectMeta: metav1.ObjectMeta{Namespace: envtest.IstioNamespace, Name: "tls-0"},
		Spec:       cmv1.CertificateSpec{SecretName: "tls-0", DNSNames: []string{"app-0.example.com"}, IssuerRef: cmmeta.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer"}},
	})
	o := lookup.Options{GatewayNamespace: envtest.IstioNamespace, CertManager: true, Packed: true}
	packed, _ := start(b, env, o)
	envtest.Until(b, "the cache to hold every Ingress", func() bool { return len(packed.HostIngresses("app-99.example.com")) == 2 })
	objs, err := lookup.List(ctx, env.Client, o)
	if err != nil {
		b.Fatal(err)
	}
	index := convert.NewIndex(convert.NewSnapshot(objs, envtest.IstioNamespace))
	s := convert.DefaultSettings()
	reviewed := ingress(teams[2], "new", "app-42.example.com", "tls-42", "/new", "/new/healthz")
	for _, view := range []struct {
		name string
		view func() convert.View
	}{
		{"index", func() convert.View { return index }},
		{"packed", packed.Admission},
	} {
		b.Run(view.name, func(b *testing.B) {
			if d := s.Validate(reviewed, view.view()); len(d.Errors) > 0 || len(d.Warnings) > 0 {
				b.Fatalf("Validate = %v, %v; want neither errors nor warnings", d.Errors, d.Warnings)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Validate(reviewed, view.view())
			}
		})
	}
}
