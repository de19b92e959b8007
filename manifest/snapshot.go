package manifest

import (
	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// SnapshotOf gathers the objects of docs into the snapshot that conversion
// reads. Only Secrets and cert-manager Certificates in gatewayNamespace
// count as TLS credentials, because that is the only namespace Istio's
// ingress gateway reads them from; a Certificate counts for its
// spec.secretName.
func SnapshotOf(docs []Document, gatewayNamespace string) convert.Snapshot {
	var snap convert.Snapshot
	creds := convert.StaticCredentials{Secrets: map[string]bool{}, Certificates: map[string]string{}}
	for _, d := range docs {
		switch o := d.Object.(type) {
		case *networkingv1.Ingress:
			snap.Ingresses = append(snap.Ingresses, o)
		case *networkingv1.IngressClass:
			snap.IngressClasses = append(snap.IngressClasses, o)
		case *corev1.Service:
			snap.Services = append(snap.Services, o)
		case *corev1.Secret:
			if o.Namespace == gatewayNamespace {
				creds.Secrets[o.Name] = true
			}
		case *cmv1.Certificate:
			if o.Namespace == gatewayNamespace && o.Spec.SecretName != "" {
				creds.Certificates[o.Spec.SecretName] = o.Name
			}
		}
	}
	snap.Credentials = creds
	return snap
}
