package lookup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ingressguard/ingressguard/internal/scheme"
)

// listed renders objects as "TYPE NAMESPACE/NAME".
func listed(objs []runtime.Object) []string {
	var out []string
	for _, o := range objs {
		m := o.(metav1.Object)
		out = append(out, fmt.Sprintf("%T %s/%s", o, m.GetNamespace(), m.GetName()))
	}
	return out
}

func TestList(t *testing.T) {
	om := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(
		&networkingv1.Ingress{ObjectMeta: om("shop", "web")},
		&networkingv1.IngressClass{ObjectMeta: om("", "istio")},
		&corev1.Service{ObjectMeta: om("shop", "web")},
		&corev1.Secret{ObjectMeta: om("istio-system", "web-tls"), Data: map[string][]byte{"tls.key": []byte("secret")}},
		&corev1.Secret{ObjectMeta: om("shop", "other-tls")},
		&cmv1.Certificate{ObjectMeta: om("istio-system", "web"), Spec: cmv1.CertificateSpec{SecretName: "issued-tls"}},
		&cmv1.Certificate{ObjectMeta: om("shop", "elsewhere"), Spec: cmv1.CertificateSpec{SecretName: "elsewhere-tls"}},
	).Build()
	tests := []struct {
		name        string
		certManager bool
		want        []string
	}{{
		name:        "with cert-manager",
		certManager: true,
		want: []string{
			"*v1.Ingress shop/web", "*v1.IngressClass /istio", "*v1.Service shop/web",
			"*v1.Secret istio-system/web-tls", "*v1.Certificate istio-system/web",
		},
	}, {
		name: "without cert-manager, Certificates are not listed",
		want: []string{"*v1.Ingress shop/web", "*v1.IngressClass /istio", "*v1.Service shop/web", "*v1.Secret istio-system/web-tls"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := List(t.Context(), c, Options{GatewayNamespace: "istio-system", CertManager: tt.certManager})
			if err != nil {
				t.Fatal(err)
			}
			if got := listed(objs); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("listed %v, want %v", got, tt.want)
			}
			for _, o := range objs {
				if s, ok := o.(*corev1.Secret); ok && len(s.Data) > 0 {
					t.Errorf("Secret %s was read with its data", s.Name)
				}
			}
		})
	}
}

func TestListFailures(t *testing.T) {
	forbidden := func(resource string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New(`User "dev" cannot list resource`))
	}
	tests := []struct {
		name     string
		resource string // the list that fails
		want     string
	}{
		{"no right to list Ingresses", "ingresses", `reading the cluster: listing Ingresses: ingresses is forbidden: User "dev" cannot list resource`},
		{"no right to list IngressClasses", "ingressclasses", "reading the cluster: listing IngressClasses: ingressclasses is forbidden"},
		{"no right to list Services", "services", "reading the cluster: listing Services: services is forbidden"},
		{"no right to list Secrets", "secrets", "reading the cluster: listing Secrets in istio-system: secrets is forbidden"},
		{"no right to list Certificates", "certificates", "reading the cluster: listing cert-manager Certificates in istio-system: certificates is forbidden"},
	}
	resourceOf := func(l client.ObjectList) string {
		switch l.(type) {
		case *networkingv1.IngressList:
			return "ingresses"
		case *networkingv1.IngressClassList:
			return "ingressclasses"
		case *corev1.ServiceList:
			return "services"
		case *metav1.PartialObjectMetadataList:
			return "secrets"
		case *cmv1.CertificateList:
			return "certificates"
		}
		return fmt.Sprintf("%T", l)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme.New()).
				WithInterceptorFuncs(interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
					if r := resourceOf(l); r == tt.resource {
						return forbidden(r)
					}
					return c.List(ctx, l, opts...)
				}}).Build()
			_, err := List(t.Context(), c, Options{GatewayNamespace: "istio-system", CertManager: true})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want one starting with %q", err, tt.want)
			}
		})
	}
}

// TestListReadsWhatTheCacheHolds: List lists every kind that CacheObjects
// caches, in the same namespaces, so that the CLI and the server judge
// Ingresses against the same objects.
func TestListReadsWhatTheCacheHolds(t *testing.T) {
	o := Options{GatewayNamespace: "istio-system", CertManager: true}
	s := scheme.New()
	listed := map[schema.GroupVersionKind]string{} // namespace listed in, "" for all
	c := fake.NewClientBuilder().WithScheme(s).
		WithInterceptorFuncs(interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
			gvk, err := apiutil.GVKForObject(l, s)
			if err != nil {
				return err
			}
			listed[gvk.GroupVersion().WithKind(strings.TrimSuffix(gvk.Kind, "List"))] = (&client.ListOptions{}).ApplyOptions(opts).Namespace
			return c.List(ctx, l, opts...)
		}}).Build()
	if _, err := List(t.Context(), c, o); err != nil {
		t.Fatal(err)
	}
	for obj, by := range CacheObjects(o) {
		gvk, err := apiutil.GVKForObject(obj, s)
		if err != nil {
			t.Fatal(err)
		}
		ns, ok := listed[gvk]
		if !ok {
			t.Errorf("the cache holds %s, but List does not list it", gvk.Kind)
			continue
		}
		want := ""
		for n := range by.Namespaces {
			want = n
		}
		if ns != want {
			t.Errorf("List lists %s in namespace %q, the cache holds them from %q", gvk.Kind, ns, want)
		}
	}
}
