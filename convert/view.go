package convert

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Classes answers questions about IngressClasses.
type Classes interface {
	// IngressClass returns the IngressClass of that name, if it exists.
	IngressClass(name string) (*networkingv1.IngressClass, bool)
	// DefaultIngressClass returns the class Kubernetes treats as default:
	// among those annotated ingressclass.kubernetes.io/is-default-class=true,
	// the most recently created one.
	DefaultIngressClass() (*networkingv1.IngressClass, bool)
}

// Services answers Service lookups for named-port resolution.
type Services interface {
	// Service returns the Service namespace/name, if it exists.
	Service(namespace, name string) (*corev1.Service, bool)
}

// Credentials answers whether a TLS credential exists, or is being issued,
// in the gateway namespace. Implementations need Secret metadata only.
type Credentials interface {
	// SecretExists reports whether a Secret of that name exists in the
	// gateway namespace.
	SecretExists(name string) bool
	// CertificateFor returns the name of a cert-manager Certificate in the
	// gateway namespace whose spec.secretName is secretName.
	CertificateFor(secretName string) (string, bool)
	// CredentialUse returns what the Secret of that name, or else the
	// Certificate that issues it, declares about who may serve it, and
	// the Certificate's dnsNames.
	CredentialUse(secretName string) CredentialUse
}

// Hosts finds the Ingresses that take part in a host's Gateway and
// VirtualService, to build them and to detect routes that two Ingresses
// both claim.
type Hosts interface {
	// HostIngresses returns every Ingress, of any class, whose
	// VirtualServiceHosts include host: those with a rule for it and, for
	// "", those with a rule without host, a single-label host or a
	// defaultBackend.
	HostIngresses(host string) []*networkingv1.Ingress
	// TLSIngresses returns every Ingress, of any class, whose TLSHosts
	// include host ("" for a tls entry without hosts).
	TLSIngresses(host string) []*networkingv1.Ingress
	// DestinationIngresses returns every Ingress, of any class, whose
	// DestinationServices include service ("namespace/name").
	DestinationIngresses(service string) []*networkingv1.Ingress
}

// View is the read-only view of cluster state that conversion reads.
// Implementations must be safe for concurrent use. The objects they return
// may be shared with other callers (lookup.Informers returns its cache's),
// so callers must never modify them; nothing in this package does.
type View interface {
	Classes
	Services
	Credentials
	Hosts
}

// StaticCredentials is a Credentials backed by sets of names.
type StaticCredentials struct {
	// Secrets holds the names of Secrets in the gateway namespace.
	Secrets map[string]bool
	// Certificates maps a spec.secretName to the Certificate that issues it.
	Certificates map[string]string
	// Uses maps a Secret name to what it and its Certificate declare;
	// absent names declare nothing.
	Uses map[string]CredentialUse
}

// SecretExists implements Credentials.
func (c StaticCredentials) SecretExists(name string) bool { return c.Secrets[name] }

// CertificateFor implements Credentials.
func (c StaticCredentials) CertificateFor(secretName string) (string, bool) {
	n, ok := c.Certificates[secretName]
	return n, ok
}

// CredentialUse implements Credentials.
func (c StaticCredentials) CredentialUse(secretName string) CredentialUse { return c.Uses[secretName] }

// Snapshot is one consistent view of the cluster state that conversion reads.
type Snapshot struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	Credentials    Credentials
}

// Index is an in-memory View built from a Snapshot.
type Index struct {
	Credentials
	classes    map[string]*networkingv1.IngressClass
	defaultCls *networkingv1.IngressClass
	services   map[string]*corev1.Service
	byHost     map[string][]*networkingv1.Ingress
	byTLS      map[string][]*networkingv1.Ingress
	byDest     map[string][]*networkingv1.Ingress
}

// NewIndex indexes a snapshot. A nil Credentials means no Secret exists.
func NewIndex(s Snapshot) *Index {
	ix := &Index{
		Credentials: s.Credentials,
		classes:     make(map[string]*networkingv1.IngressClass, len(s.IngressClasses)),
		services:    make(map[string]*corev1.Service, len(s.Services)),
		byHost:      make(map[string][]*networkingv1.Ingress),
		byTLS:       make(map[string][]*networkingv1.Ingress),
		byDest:      make(map[string][]*networkingv1.Ingress),
	}
	if ix.Credentials == nil {
		ix.Credentials = StaticCredentials{}
	}
	var defaults []*networkingv1.IngressClass
	for _, c := range s.IngressClasses {
		ix.classes[c.Name] = c
		if IsDefaultClass(c) {
			defaults = append(defaults, c)
		}
	}
	ix.defaultCls = NewestClass(defaults)
	for _, svc := range s.Services {
		ix.services[svc.Namespace+"/"+svc.Name] = svc
	}
	for _, ing := range s.Ingresses {
		for _, h := range VirtualServiceHosts(ing) {
			ix.byHost[h] = append(ix.byHost[h], ing)
		}
		for _, h := range TLSHosts(ing) {
			ix.byTLS[h] = append(ix.byTLS[h], ing)
		}
		for _, svc := range DestinationServices(ing) {
			ix.byDest[svc] = append(ix.byDest[svc], ing)
		}
	}
	return ix
}

// IngressClass implements Classes.
func (ix *Index) IngressClass(name string) (*networkingv1.IngressClass, bool) {
	c, ok := ix.classes[name]
	return c, ok
}

// DefaultIngressClass implements Classes.
func (ix *Index) DefaultIngressClass() (*networkingv1.IngressClass, bool) {
	return ix.defaultCls, ix.defaultCls != nil
}

// Service implements Services.
func (ix *Index) Service(namespace, name string) (*corev1.Service, bool) {
	s, ok := ix.services[namespace+"/"+name]
	return s, ok
}

// HostIngresses implements Hosts.
func (ix *Index) HostIngresses(host string) []*networkingv1.Ingress { return ix.byHost[host] }

// TLSIngresses implements Hosts.
func (ix *Index) TLSIngresses(host string) []*networkingv1.Ingress { return ix.byTLS[host] }

// DestinationIngresses implements Hosts.
func (ix *Index) DestinationIngresses(service string) []*networkingv1.Ingress {
	return ix.byDest[service]
}
