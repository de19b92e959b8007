package convert

import (
	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// NewSnapshot gathers objs into the snapshot that conversion reads:
// Ingresses, IngressClasses and Services, and the TLS credentials. Only
// Secrets and cert-manager Certificates in gatewayNamespace count as TLS
// credentials, because that is the only namespace Istio's ingress gateway
// reads them from; a Certificate counts for its spec.secretName. Objects
// of other types are left out.
func NewSnapshot(objs []runtime.Object, gatewayNamespace string) Snapshot {
	var snap Snapshot
	creds := StaticCredentials{Secrets: map[string]bool{}, Certificates: map[string]string{}, Uses: map[string]CredentialUse{}}
	var certs []*cmv1.Certificate
	for _, obj := range objs {
		switch o := obj.(type) {
		case *networkingv1.Ingress:
			snap.Ingresses = append(snap.Ingresses, o)
		case *networkingv1.IngressClass:
			snap.IngressClasses = append(snap.IngressClasses, o)
		case *corev1.Service:
			snap.Services = append(snap.Services, o)
		case *corev1.Secret:
			if o.Namespace == gatewayNamespace {
				creds.Secrets[o.Name] = true
				if v, ok := o.Annotations[AnnotationAllowedNamespaces]; ok {
					creds.Uses[o.Name] = CredentialUse{Declared: true, Namespaces: v}
				}
			}
		case *cmv1.Certificate:
			if o.Namespace == gatewayNamespace && o.Spec.SecretName != "" {
				creds.Certificates[o.Spec.SecretName] = o.Name
				certs = append(certs, o)
			}
		}
	}
	for _, cert := range certs {
		if creds.Certificates[cert.Spec.SecretName] == cert.Name {
			creds.Uses[cert.Spec.SecretName] = UseOf(creds.Uses[cert.Spec.SecretName], cert)
		}
	}
	snap.Credentials = creds
	return snap
}
