package main

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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestReadCluster(t *testing.T) {
	om := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	objs := []client.Object{
		&networkingv1.Ingress{ObjectMeta: om("shop", "web")},
		&networkingv1.IngressClass{ObjectMeta: om("", "istio")},
		&corev1.Service{ObjectMeta: om("shop", "web")},
		&corev1.Secret{ObjectMeta: om("istio-system", "web-tls"), Data: map[string][]byte{"tls.key": []byte("secret")}},
		&corev1.Secret{ObjectMeta: om("shop", "other-tls")},
		&cmv1.Certificate{ObjectMeta: om("istio-system", "web"), Spec: cmv1.CertificateSpec{SecretName: "issued-tls"}},
		&cmv1.Certificate{ObjectMeta: om("shop", "elsewhere"), Spec: cmv1.CertificateSpec{SecretName: "elsewhere-tls"}},
	}
	c := fake.NewClientBuilder().WithScheme(kinds).WithObjects(objs...).Build()
	docs, err := readCluster(t.Context(), c, "istio-system")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		if d.Source != clusterSource {
			t.Errorf("Source = %q, want %q", d.Source, clusterSource)
		}
		if s, ok := d.Object.(*corev1.Secret); ok && len(s.Data) > 0 {
			t.Errorf("Secret %s was read with its data", s.Name)
		}
		k := keyOf(d.Object)
		got = append(got, k.kind+" "+k.name)
	}
	want := []string{
		"Ingress shop/web", "IngressClass istio", "Service shop/web",
		"Secret istio-system/web-tls", "Certificate istio-system/web",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read %v, want %v", got, want)
	}
}

func TestReadClusterFailures(t *testing.T) {
	forbidden := func(resource string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New(`User "dev" cannot list resource`))
	}
	tests := []struct {
		name string
		fail func(client.ObjectList) error // nil: list normally
		want string                        // error; "" for none
	}{{
		name: "cert-manager is not installed",
		fail: func(l client.ObjectList) error {
			if _, ok := l.(*cmv1.CertificateList); ok {
				return &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "cert-manager.io", Kind: "Certificate"}}
			}
			return nil
		},
	}, {
		name: "no right to list Ingresses",
		fail: func(l client.ObjectList) error {
			if _, ok := l.(*networkingv1.IngressList); ok {
				return forbidden("ingresses")
			}
			return nil
		},
		want: `reading the cluster: listing Ingresses: ingresses is forbidden: User "dev" cannot list resource`,
	}, {
		name: "no right to list Secrets",
		fail: func(l client.ObjectList) error {
			if _, ok := l.(*metav1.PartialObjectMetadataList); ok {
				return forbidden("secrets")
			}
			return nil
		},
		want: "reading the cluster: listing Secrets in istio-system: secrets is forbidden",
	}, {
		name: "Certificates fail otherwise",
		fail: func(l client.ObjectList) error {
			if _, ok := l.(*cmv1.CertificateList); ok {
				return forbidden("certificates")
			}
			return nil
		},
		want: "reading the cluster: listing cert-manager Certificates in istio-system: certificates is forbidden",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(kinds).
				WithObjects(&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}).
				WithInterceptorFuncs(interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
					if err := tt.fail(l); err != nil {
						return err
					}
					return c.List(ctx, l, opts...)
				}}).Build()
			docs, err := readCluster(t.Context(), c, "istio-system")
			if tt.want == "" {
				if err != nil || len(docs) != 1 {
					t.Errorf("read %d objects, error %v; want the Ingress", len(docs), err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want one starting with %q", err, tt.want)
			}
		})
	}
}
