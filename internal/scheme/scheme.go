// Package scheme builds the one runtime.Scheme of ingressguard: the types it
// reads and writes, for every client, cache, codec and decoder of the
// module.
package scheme

import (
	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// Scheme is the scheme of the product: built once, and only read, by every
// client, cache, codec and decoder. Code that adds types (test/envtest)
// takes one of its own from New.
var Scheme = New()

// New returns a scheme with client-go's types (Ingresses, IngressClasses,
// Services, Secrets, Leases, AdmissionReviews), cert-manager's
// certmanager/v1 types (Certificates), Istio's networking/v1 types
// (Gateways, VirtualServices, DestinationRules) and security/v1 types
// (AuthorizationPolicies). Each call returns a new scheme, which the
// caller may extend.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		cmv1.AddToScheme,
		istionet.AddToScheme,
		istiosec.AddToScheme,
	} {
		// The AddToScheme functions of generated types fail only on
		// conflicting registrations, a programming error.
		utilruntime.Must(add(s))
	}
	return s
}
