package lookup

import (
	"context"
	"fmt"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/internal/scheme"
)

// Read reads, once, what the informer cache of New holds, from the API
// server at cfg: it asks whether cert-manager's Certificate API is served
// (CertManagerServed), then lists the objects (List). It is the one-off
// read of `ingressguard convert --cluster` and `check --cluster`.
func Read(ctx context.Context, cfg *rest.Config, gatewayNamespace string) ([]runtime.Object, error) {
	certManager, err := CertManagerServed(cfg)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return nil, fmt.Errorf("reading the cluster: connecting to the API server at %s: %w", cfg.Host, err)
	}
	return List(ctx, c, Options{GatewayNamespace: gatewayNamespace, CertManager: certManager})
}

// List lists with c the kinds and namespaces that the cache holds
// (CacheObjects, New): Ingresses, IngressClasses and Services
// cluster-wide; in o.GatewayNamespace the Secrets, as metadata only (their
// data is never read, and a returned *corev1.Secret has none), and, when
// o.CertManager, the cert-manager Certificates. Unlike the cache it keeps
// the objects whole.
func List(ctx context.Context, c client.Reader, o Options) ([]runtime.Object, error) {
	var objs []runtime.Object
	list := func(what string, l client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, l, opts...); err != nil {
			return fmt.Errorf("reading the cluster: listing %s: %w", what, err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return fmt.Errorf("reading the cluster: listing %s: %w", what, err)
		}
		objs = append(objs, items...)
		return nil
	}
	inGateway := client.InNamespace(o.GatewayNamespace)
	secrets := &metav1.PartialObjectMetadataList{}
	secrets.SetGroupVersionKind(secretGVK.GroupVersion().WithKind("SecretList"))
	for _, l := range []struct {
		what string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"Ingresses", &networkingv1.IngressList{}, nil},
		{"IngressClasses", &networkingv1.IngressClassList{}, nil},
		{"Services", &corev1.ServiceList{}, nil},
		{"Secrets in " + o.GatewayNamespace, secrets, []client.ListOption{inGateway}},
	} {
		if err := list(l.what, l.list, l.opts...); err != nil {
			return nil, err
		}
	}
	for i, obj := range objs {
		if s, ok := obj.(*metav1.PartialObjectMetadata); ok {
			objs[i] = &corev1.Secret{ObjectMeta: s.ObjectMeta}
		}
	}
	if !o.CertManager {
		return objs, nil
	}
	if err := list("cert-manager Certificates in "+o.GatewayNamespace, &cmv1.CertificateList{}, inGateway); err != nil {
		return nil, err
	}
	return objs, nil
}
