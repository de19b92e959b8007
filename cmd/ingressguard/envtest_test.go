package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// TestCluster reads a real API server through a kubeconfig.
func TestCluster(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := t.Context()
	prefix := networkingv1.PathTypePrefix
	istio, nginx := envtest.IngressClassName, "nginx"
	ingress := func(ns, name string, class *string, secret string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: networkingv1.IngressSpec{
				IngressClassName: class,
				TLS:              []networkingv1.IngressTLS{{Hosts: []string{name + ".example.com"}, SecretName: secret}},
				Rules: []networkingv1.IngressRule{{Host: name + ".example.com", IngressRuleValue: networkingv1.IngressRuleValue{
					HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
						Path: "/status", PathType: &prefix,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: "httpbin", Port: networkingv1.ServiceBackendPort{Name: "http"},
						}},
					}}},
				}}},
			},
		}
	}
	// An Ingress of ingress-nginx with its annotations, on a host and path
	// that an Ingress of Istio in another namespace routes too.
	legacy := ingress("shop", "legacy", &nginx, "")
	legacy.Spec.TLS = nil
	legacy.Spec.Rules[0].Host = "httpbin.example.com"
	legacyAnnotations := []string{"nginx.ingress.kubernetes.io/proxy-body-size", "nginx.ingress.kubernetes.io/rewrite-target"}
	legacy.Annotations = map[string]string{legacyAnnotations[0]: "8m", legacyAnnotations[1]: "/"}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "httpbin"}, Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Name: "http", Port: 8000, TargetPort: intstr.FromInt32(8080)}},
		}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "httpbin"}, Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Name: "http", Port: 8000}},
		}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: envtest.IstioNamespace, Name: "httpbin-tls",
			Annotations: map[string]string{convert.AnnotationAllowedNamespaces: "default, shop"}}},
		ingress("default", "httpbin", &istio, "httpbin-tls"),
		ingress("shop", "shop", &istio, "shop-tls"),
		legacy,
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	fixed, err := yaml.Marshal(ingress("shop", "shop", &istio, "httpbin-tls"))
	if err != nil {
		t.Fatal(err)
	}
	fixedFile := filepath.Join(t.TempDir(), "fixed.yaml")
	if err := os.WriteFile(fixedFile, append([]byte("apiVersion: networking.k8s.io/v1\nkind: Ingress\n"), fixed...), 0o600); err != nil {
		t.Fatal(err)
	}
	missingTLS := `cluster: Ingress shop/shop: spec.tls[0].secretName: Invalid value: "shop-tls": no Secret of that name in namespace "istio-system"`

	t.Run("check", func(t *testing.T) {
		tests := []struct {
			name   string
			args   []string
			env    string // KUBECONFIG
			code   int
			stdout []string
			stderr string
		}{{
			name:   "--kubeconfig",
			args:   []string{"--kubeconfig", env.Kubeconfig},
			code:   1,
			stdout: []string{missingTLS, "2 Ingresses checked, 1 error, 0 warnings\n"},
			stderr: "note: 1 Ingress in the cluster is not ours (another controller's class, or no class in STRICT mode)\n",
		}, {
			name:   "--cluster with KUBECONFIG",
			args:   []string{"--cluster"},
			env:    env.Kubeconfig,
			code:   1,
			stdout: []string{missingTLS, "2 Ingresses checked, 1 error, 0 warnings\n"},
		}, {
			name:   "a file replaces the cluster's Ingress",
			args:   []string{"--kubeconfig", env.Kubeconfig, "-f", fixedFile},
			stdout: []string{"2 Ingresses checked, 0 errors, 0 warnings\n"},
			stderr: "note: Ingress shop/shop of " + fixedFile + " (document 1) replaces the one in the cluster\n",
		}, {
			name: "--as-class",
			args: []string{"--kubeconfig", env.Kubeconfig, "--as-class", "nginx"},
			code: 1,
			stdout: append(answerLines(t, "cluster: Ingress shop/legacy: ", legacyAnnotations),
				// default/httpbin owns the host (README "Many teams, one gateway").
				`cluster: Ingress shop/legacy: spec.rules[0].host: Invalid value: "httpbin.example.com": host "httpbin.example.com" is already served by an Ingress in another namespace`,
				missingTLS, "\nANNOTATION ", "3 Ingresses checked, 2 errors, "),
			stderr: "note: checking 1 Ingress of class nginx as Istio's (--as-class)\n",
		}, {
			name:   "unknown context",
			args:   []string{"--kubeconfig", env.Kubeconfig, "--context", "nope"},
			code:   2,
			stderr: `ingressguard: loading kubeconfig: context "nope" does not exist`,
		}}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Setenv("KUBECONFIG", tt.env)
				out, errOut, code := run(t, "", append([]string{"check"}, tt.args...)...)
				if code != tt.code {
					t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
				}
				inOrder(t, out, tt.stdout)
				if tt.stderr != "" && !strings.Contains(errOut, tt.stderr) {
					t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
				}
			})
		}
	})

	t.Run("an issuing Certificate counts as the Secret", func(t *testing.T) {
		cert := &cmv1.Certificate{
			ObjectMeta: metav1.ObjectMeta{Namespace: envtest.IstioNamespace, Name: "shop",
				Annotations: map[string]string{convert.AnnotationAllowedNamespaces: "shop"}},
			Spec: cmv1.CertificateSpec{
				SecretName: "shop-tls", DNSNames: []string{"shop.example.com"},
				IssuerRef: cmmeta.IssuerReference{Name: "ca", Kind: "ClusterIssuer"},
			},
		}
		if err := env.Client.Create(ctx, cert); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, cert) })
		out, errOut, code := run(t, "", "check", "--kubeconfig", env.Kubeconfig)
		if code != 0 || out != "2 Ingresses checked, 0 errors, 0 warnings\n" {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	})

	t.Run("convert output is accepted by the API server", func(t *testing.T) {
		out, errOut, code := run(t, "", "convert", "--kubeconfig", env.Kubeconfig)
		if code != 1 {
			t.Fatalf("exit %d, want 1 (shop/shop has an error); stderr:\n%s", code, errOut)
		}
		created := 0
		for _, doc := range bytes.Split([]byte(out), []byte("\n---\n")) {
			var u unstructured.Unstructured
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				t.Fatal(err)
			}
			if err := env.Client.Create(ctx, &u, client.FieldValidation(metav1.FieldValidationStrict)); err != nil {
				t.Errorf("creating %s %s: %v", u.GetKind(), u.GetName(), err)
			}
			created++
		}
		// Two Gateways, and the VirtualService of httpbin.example.com;
		// shop.example.com has its route too: only its TLS is in error.
		if created != 4 {
			t.Errorf("created %d objects, want 4:\n%s", created, out)
		}
	})
}
