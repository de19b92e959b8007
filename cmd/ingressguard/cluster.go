package main

import (
	"context"
	"fmt"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ingressguard/ingressguard/internal/scheme"
	"github.com/ingressguard/ingressguard/manifest"
)

// kinds is the scheme of the objects ingressguard reads.
var kinds = scheme.New()

// clusterReader connects to the cluster of a kubeconfig, found by the
// standard client-go rules: the explicit path, else KUBECONFIG, else
// ~/.kube/config, else the in-cluster configuration.
func clusterReader(kubeconfig, kubeContext string) (client.Reader, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	// API deprecation warnings would only be noise for a read-only tool, and
	// controller-runtime would otherwise print a stack trace about its unset
	// logger on a slow cluster.
	cfg.WarningHandlerWithContext = rest.NoWarnings{}
	ctrllog.SetLogger(logr.Discard())
	c, err := client.New(cfg, client.Options{Scheme: kinds})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster at %s: %w", cfg.Host, err)
	}
	return c, nil
}

// readCluster lists what conversion reads: Ingresses, IngressClasses and
// Services cluster-wide, and, in the gateway namespace, the names of the
// Secrets (metadata only, their data is never read) and the cert-manager
// Certificates, if cert-manager is installed.
func readCluster(ctx context.Context, c client.Reader, gatewayNamespace string) ([]manifest.Document, error) {
	var docs []manifest.Document
	add := func(o runtime.Object) {
		docs = append(docs, manifest.Document{Source: clusterSource, Object: o})
	}
	list := func(what string, l client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, l, opts...); err != nil {
			return fmt.Errorf("reading the cluster: listing %s: %w", what, err)
		}
		return nil
	}

	var ingresses networkingv1.IngressList
	if err := list("Ingresses", &ingresses); err != nil {
		return nil, err
	}
	for i := range ingresses.Items {
		add(&ingresses.Items[i])
	}
	var classes networkingv1.IngressClassList
	if err := list("IngressClasses", &classes); err != nil {
		return nil, err
	}
	for i := range classes.Items {
		add(&classes.Items[i])
	}
	var services corev1.ServiceList
	if err := list("Services", &services); err != nil {
		return nil, err
	}
	for i := range services.Items {
		add(&services.Items[i])
	}
	var secrets metav1.PartialObjectMetadataList
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := list("Secrets in "+gatewayNamespace, &secrets, client.InNamespace(gatewayNamespace)); err != nil {
		return nil, err
	}
	for _, s := range secrets.Items {
		add(&corev1.Secret{ObjectMeta: s.ObjectMeta})
	}
	var certs cmv1.CertificateList
	err := c.List(ctx, &certs, client.InNamespace(gatewayNamespace))
	switch {
	case meta.IsNoMatchError(err):
		// cert-manager is not installed: no Certificate is being issued.
	case err != nil:
		return nil, fmt.Errorf("reading the cluster: listing cert-manager Certificates in %s: %w", gatewayNamespace, err)
	}
	for i := range certs.Items {
		add(&certs.Items[i])
	}
	return docs, nil
}
