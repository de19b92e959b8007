package lookup_test

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/lookup"
	"github.com/ingressguard/ingressguard/server"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// start builds a cache for o the way the manager does (lookup.NewCache,
// with the manager's kind of REST mapper) and starts it.
func start(t testing.TB, env *envtest.Env, o lookup.Options) (*lookup.Informers, cache.Cache) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	opts := server.CacheOptions(convert.DefaultSettings(), o, false)
	opts.Scheme = env.Scheme
	// As the manager does: one HTTP client and a dynamic REST mapper.
	httpClient, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Mapper, err = apiutil.NewDynamicRESTMapper(env.Config, httpClient); err != nil {
		t.Fatal(err)
	}
	opts.HTTPClient = httpClient
	c, err := lookup.NewCache(env.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := lookup.New(ctx, c, o, testr.NewWithInterface(t, testr.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cache: %v", err)
		}
	})
	envtest.Until(t, "the initial sync of the cache", cl.Synced)
	return cl, c
}

// creator returns a function that creates objects in env, failing t on an
// error.
func creator(t testing.TB, env *envtest.Env) func(objs ...client.Object) {
	return func(objs ...client.Object) {
		t.Helper()
		for _, obj := range objs {
			if err := env.Client.Create(t.Context(), obj); err != nil {
				t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
			}
		}
	}
}

func TestCluster(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := t.Context()
	create := creator(t, env)
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})

	served, err := lookup.CertManagerServed(env.Config)
	if err != nil || !served {
		t.Fatalf("CertManagerServed = %v, %v; want true: envtest installs cert-manager's CRDs", served, err)
	}
	o := lookup.Options{GatewayNamespace: envtest.IstioNamespace, CertManager: true}
	cl, c := start(t, env, o)
	// The cache of a process that only admits holds Ingresses packed; its
	// lookups answer the same.
	packed := o
	packed.Packed = true
	ingressViews := map[string]*lookup.Informers{"typed": cl}
	ingressViews["packed"], _ = start(t, env, packed)

	t.Run("IngressClasses", func(t *testing.T) {
		if ic, ok := cl.IngressClass(envtest.IngressClassName); !ok || ic.Spec.Controller != convert.ControllerName {
			t.Errorf("IngressClass(istio) = %v, %v", ic, ok)
		}
		if _, ok := cl.IngressClass("nginx"); ok {
			t.Error("IngressClass(nginx) found before it exists")
		}
		if ic, ok := cl.DefaultIngressClass(); ok {
			t.Errorf("DefaultIngressClass = %s before any class is marked default", ic.Name)
		}
		create(&networkingv1.IngressClass{
			ObjectMeta: metav1.ObjectMeta{Name: "mesh-edge", Annotations: map[string]string{convert.DefaultClassAnnotation: "true"}},
			Spec:       networkingv1.IngressClassSpec{Controller: convert.ControllerName},
		})
		envtest.Until(t, "the cache to show the default IngressClass", func() bool {
			ic, ok := cl.DefaultIngressClass()
			return ok && ic.Name == "mesh-edge"
		})
		unclassed := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "unclassed"}}
		if !convert.DefaultSettings().Ours(unclassed, cl) {
			t.Error("an Ingress without class is not ours although the default IngressClass is Istio's")
		}
	})

	t.Run("Services keep only their ports", func(t *testing.T) {
		create(&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "httpbin", Namespace: "shop", Labels: map[string]string{"app": "httpbin"}},
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": "httpbin"},
				Ports:    []corev1.ServicePort{{Name: "http", Port: 8000, TargetPort: intstr.FromInt32(8080)}},
			},
		})
		var svc *corev1.Service
		envtest.Until(t, "the cache to show Service shop/httpbin", func() bool {
			var ok bool
			svc, ok = cl.Service("shop", "httpbin")
			return ok
		})
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].Port != 8000 {
			t.Errorf("ports = %+v, want http=8000", svc.Spec.Ports)
		}
		if svc.Labels != nil || svc.Spec.Selector != nil || svc.Spec.ClusterIP != "" || svc.ManagedFields != nil {
			t.Errorf("cached Service holds more than name and ports: %+v", svc)
		}
		if _, ok := cl.Service("default", "httpbin"); ok {
			t.Error("Service default/httpbin found, but it is in namespace shop")
		}
	})

	t.Run("Secrets: names in the gateway namespace only, no data", func(t *testing.T) {
		secret := func(ns, name string) *corev1.Secret {
			return &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{
					// kubectl apply keeps the whole Secret, data included, here.
					"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"tls.key":"c2VjcmV0"}}`,
				}},
				Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{corev1.TLSCertKey: []byte("cert"), corev1.TLSPrivateKeyKey: []byte("secret")},
			}
		}
		create(secret("shop", "shop-only-tls"), secret(envtest.IstioNamespace, "httpbin-tls"))
		envtest.Until(t, "the cache to show Secret istio-system/httpbin-tls", func() bool { return cl.SecretExists("httpbin-tls") })
		if cl.SecretExists("shop-only-tls") {
			t.Error("SecretExists(shop-only-tls) = true, but that Secret is only in namespace shop")
		}
		var cached metav1.PartialObjectMetadataList
		cached.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		if err := c.List(ctx, &cached, client.InNamespace(envtest.IstioNamespace)); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(cached.Items, func(m metav1.PartialObjectMetadata) bool { return m.Name == "httpbin-tls" })
		if i < 0 {
			t.Fatalf("cache lists no Secret httpbin-tls: %+v", cached.Items)
		}
		if m := cached.Items[i]; m.Annotations != nil || m.Labels != nil || m.ManagedFields != nil {
			t.Errorf("cached Secret metadata keeps annotations, labels or managedFields: %+v", m.ObjectMeta)
		}
	})

	t.Run("Certificates in the gateway namespace, by secretName", func(t *testing.T) {
		cert := func(ns, name, secretName string) *cmv1.Certificate {
			return &cmv1.Certificate{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: cmv1.CertificateSpec{
					SecretName: secretName, DNSNames: []string{"httpbin.example.com"},
					IssuerRef: cmmeta.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer"},
				},
			}
		}
		create(cert(envtest.IstioNamespace, "httpbin", "issued-tls"), cert("shop", "shop", "shop-issued-tls"))
		envtest.Until(t, "the cache to show Certificate istio-system/httpbin", func() bool {
			name, ok := cl.CertificateFor("issued-tls")
			return ok && name == "httpbin"
		})
		if name, ok := cl.CertificateFor("shop-issued-tls"); ok {
			t.Errorf("CertificateFor(shop-issued-tls) = %s, but that Certificate is in namespace shop", name)
		}
		if name, ok := cl.CertificateFor("httpbin-tls"); ok {
			t.Errorf("CertificateFor(httpbin-tls) = %s; no Certificate issues it", name)
		}
	})

	t.Run("certificate use: the allowed namespaces and dnsNames, and no other metadata", func(t *testing.T) {
		lastApplied := map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"tls.key":"c2VjcmV0"}}`}
		annotated := func(allowed string) map[string]string {
			m := map[string]string{convert.AnnotationAllowedNamespaces: allowed}
			for k, v := range lastApplied {
				m[k] = v
			}
			return m
		}
		secret := func(name string, annotations map[string]string) *corev1.Secret {
			return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: envtest.IstioNamespace, Annotations: annotations}, Type: corev1.SecretTypeTLS,
				Data: map[string][]byte{corev1.TLSCertKey: []byte("cert"), corev1.TLSPrivateKeyKey: []byte("secret")}}
		}
		cert := func(name, secretName string, annotations map[string]string) *cmv1.Certificate {
			return &cmv1.Certificate{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: envtest.IstioNamespace, Annotations: annotations},
				Spec: cmv1.CertificateSpec{
					SecretName: secretName, DNSNames: []string{"a.example.com", "*.a.example.com"}, CommonName: "a.example.com",
					IssuerRef: cmmeta.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer"},
				},
			}
		}
		create(
			secret("declared-tls", annotated("team-a")),
			secret("undeclared-tls", lastApplied),
			cert("declared", "issued-declared-tls", annotated("team-b, team-c")),
			secret("both-tls", annotated("team-a")), cert("both", "both-tls", annotated("team-b")),
		)
		dns := []string{"a.example.com", "*.a.example.com"}
		want := map[string]convert.CredentialUse{
			"declared-tls":        {Declared: true, Namespaces: "team-a"},
			"undeclared-tls":      {},
			"issued-declared-tls": {Declared: true, Namespaces: "team-b, team-c", Certificate: "declared", DNSNames: dns},
			// The Secret's own declaration wins over its Certificate's.
			"both-tls": {Declared: true, Namespaces: "team-a", Certificate: "both", DNSNames: dns},
		}
		envtest.Until(t, "the cache to show the Secrets and Certificates", func() bool {
			return cl.SecretExists("undeclared-tls") && cl.CredentialUse("both-tls").Certificate == "both" && cl.CredentialUse("issued-declared-tls").Declared
		})
		// An admission's view, asked twice, answers as the Informers do.
		admission := cl.Admission()
		for name, w := range want {
			if got := cl.CredentialUse(name); !reflect.DeepEqual(got, w) {
				t.Errorf("CredentialUse(%s) = %+v, want %+v", name, got, w)
			}
			exists := name != "issued-declared-tls"
			for range 2 {
				if got := admission.SecretExists(name); got != exists {
					t.Errorf("admission view: SecretExists(%s) = %v, want %v", name, got, exists)
				}
				if got := admission.CredentialUse(name); !reflect.DeepEqual(got, w) {
					t.Errorf("admission view: CredentialUse(%s) = %+v, want %+v", name, got, w)
				}
			}
		}
		var secrets metav1.PartialObjectMetadataList
		secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		if err := c.List(ctx, &secrets, client.InNamespace(envtest.IstioNamespace)); err != nil {
			t.Fatal(err)
		}
		var certs cmv1.CertificateList
		if err := c.List(ctx, &certs, client.InNamespace(envtest.IstioNamespace)); err != nil {
			t.Fatal(err)
		}
		var metas []metav1.ObjectMeta
		for _, m := range secrets.Items {
			metas = append(metas, m.ObjectMeta)
		}
		for _, c := range certs.Items {
			metas = append(metas, c.ObjectMeta)
			if c.Spec.CommonName != "" || c.Spec.IssuerRef.Name != "" {
				t.Errorf("cached Certificate %s keeps more of its spec than secretName and dnsNames: %+v", c.Name, c.Spec)
			}
		}
		for _, m := range metas {
			if _, ok := m.Annotations["kubectl.kubernetes.io/last-applied-configuration"]; ok || len(m.Annotations) > 1 {
				t.Errorf("cached %s keeps annotations other than %s: %v", m.Name, convert.AnnotationAllowedNamespaces, m.Annotations)
			}
		}
	})

	t.Run("credentials: answers change with the Secrets and Certificates", func(t *testing.T) {
		// Admissions' answers are remembered between admissions (each makes
		// its own view); every change of a Secret or Certificate must show
		// in the next ones.
		for range 2 {
			if use := cl.Admission().CredentialUse("declared-tls"); use.Namespaces != "team-a" {
				t.Fatalf("CredentialUse(declared-tls) = %+v before any change", use)
			}
		}
		var s corev1.Secret
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: envtest.IstioNamespace, Name: "declared-tls"}, &s); err != nil {
			t.Fatal(err)
		}
		s.Annotations[convert.AnnotationAllowedNamespaces] = "team-z"
		if err := env.Client.Update(ctx, &s); err != nil {
			t.Fatal(err)
		}
		envtest.Until(t, "CredentialUse(declared-tls) to show the updated annotation", func() bool {
			return cl.Admission().CredentialUse("declared-tls").Namespaces == "team-z"
		})
		create(&cmv1.Certificate{
			ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: envtest.IstioNamespace},
			Spec: cmv1.CertificateSpec{SecretName: "declared-tls", DNSNames: []string{"late.example.com"},
				IssuerRef: cmmeta.IssuerReference{Name: "letsencrypt", Kind: "ClusterIssuer"}},
		})
		envtest.Until(t, "CertificateFor(declared-tls) to show the new Certificate", func() bool {
			name, ok := cl.Admission().CertificateFor("declared-tls")
			return ok && name == "late"
		})
		if err := env.Client.Delete(ctx, &s); err != nil {
			t.Fatal(err)
		}
		envtest.Until(t, "SecretExists(declared-tls) to be false once it is deleted", func() bool { return !cl.Admission().SecretExists("declared-tls") })
	})

	t.Run("Ingresses by rule host", func(t *testing.T) {
		ing := func(ns, name string, hosts ...string) *networkingv1.Ingress {
			i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
			for _, h := range hosts {
				i.Spec.Rules = append(i.Spec.Rules, networkingv1.IngressRule{Host: h})
			}
			i.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "httpbin", Port: networkingv1.ServiceBackendPort{Number: 8000}}}
			return i
		}
		shared := ing("shop", "a", "a.example.com", "shared.example.com")
		shared.Annotations = map[string]string{convert.AnnotationShareHostWith: "default", "meta.helm.sh/release-name": "shop"}
		create(
			shared,
			ing("default", "b", "shared.example.com"),
			ing("default", "c", ""),
		)
		for view, cl := range ingressViews {
			names := func(host string) []string {
				var out []string
				for _, i := range cl.HostIngresses(host) {
					out = append(out, i.Namespace+"/"+i.Name)
				}
				slices.Sort(out)
				return out
			}
			envtest.Until(t, "the "+view+" cache to show three Ingresses", func() bool { return len(names("shared.example.com")) == 2 && len(names("")) == 3 })
			for host, want := range map[string][]string{
				"shared.example.com": {"default/b", "shop/a"},
				"a.example.com":      {"shop/a"},
				// The VirtualService of "*" also takes every defaultBackend.
				"":              {"default/b", "default/c", "shop/a"},
				"b.example.com": nil,
			} {
				if got := names(host); !slices.Equal(got, want) {
					t.Errorf("%s: HostIngresses(%q) = %v, want %v", view, host, got, want)
				}
			}
			for _, i := range cl.HostIngresses("a.example.com") {
				if i.ManagedFields != nil {
					t.Errorf("%s: cached Ingress %s keeps managedFields", view, i.Name)
				}
				if want := map[string]string{convert.AnnotationShareHostWith: "default"}; !reflect.DeepEqual(i.Annotations, want) {
					t.Errorf("%s: cached Ingress %s has annotations %v, want %v", view, i.Name, i.Annotations, want)
				}
			}
		}
		// An edit moves an Ingress between hosts, a delete takes it out.
		b := &networkingv1.Ingress{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "b"}, b); err != nil {
			t.Fatal(err)
		}
		b.Spec.Rules[0].Host = "b.example.com"
		if err := env.Client.Update(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Delete(ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "c"}}); err != nil {
			t.Fatal(err)
		}
		for view, cl := range ingressViews {
			envtest.Until(t, "the "+view+" cache to show the edit and the delete", func() bool {
				return len(cl.HostIngresses("shared.example.com")) == 1 && len(cl.HostIngresses("b.example.com")) == 1 && len(cl.HostIngresses("")) == 2
			})
		}
	})

	t.Run("Ingresses keep ingress-nginx annotations, by destination Service", func(t *testing.T) {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "tls-backend", Namespace: "shop", Annotations: map[string]string{
			convert.NginxPrefix + "backend-protocol":           "HTTPS",
			"kubectl.kubernetes.io/last-applied-configuration": `{"spec":{}}`,
		}}}
		ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: "vault", Port: networkingv1.ServiceBackendPort{Number: 8200}}}
		create(ing)
		for view, cl := range ingressViews {
			envtest.Until(t, "the "+view+" cache to show Ingress shop/tls-backend by Service", func() bool { return len(cl.DestinationIngresses("shop/vault")) == 1 })
			cached := cl.DestinationIngresses("shop/vault")[0]
			if want := map[string]string{convert.NginxPrefix + "backend-protocol": "HTTPS"}; !maps.Equal(cached.Annotations, want) {
				t.Errorf("%s: cached annotations = %v, want %v", view, cached.Annotations, want)
			}
			if got := cl.DestinationKeys(); !slices.Contains(got, "shop/vault") || slices.Contains(got, "shop/httpbin") {
				t.Errorf("%s: DestinationKeys() = %v, want shop/vault and no Service of an Ingress without such annotations", view, got)
			}
		}
	})

	t.Run("a cluster without cert-manager", func(t *testing.T) {
		crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "certificates.cert-manager.io"}}
		if err := env.Client.Delete(ctx, crd); err != nil {
			t.Fatal(err)
		}
		envtest.Until(t, "discovery to stop serving Certificates", func() bool {
			served, err := lookup.CertManagerServed(env.Config)
			return err == nil && !served
		})
		cl, _ := start(t, env, lookup.Options{GatewayNamespace: envtest.IstioNamespace})
		if name, ok := cl.CertificateFor("issued-tls"); ok {
			t.Errorf("CertificateFor(issued-tls) = %s without cert-manager", name)
		}
		if !cl.SecretExists("httpbin-tls") {
			t.Error("SecretExists(httpbin-tls) = false")
		}
	})
}
