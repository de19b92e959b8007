// Package lookup is what ingressguard reads from a cluster, in one place.
// For serve, it answers the convert.View questions of admission from a
// controller-runtime informer cache, so that no admission request makes an
// API call:
//
//   - IngressClasses, Services and Ingresses cluster-wide (Services slimmed
//     to their name and ports, Ingresses indexed by VirtualService host),
//     read straight from the informers' indexers; a process that only
//     admits holds its Ingresses packed (Options.Packed); the webhooks
//     judge each admission against Informers.Admission;
//   - Secrets of the gateway namespace as metadata only, so the process never
//     holds Secret data;
//   - cert-manager Certificates of the gateway namespace, slimmed to
//     spec.secretName (indexed), spec.dnsNames and the annotation that
//     says who may use them, when cert-manager's API is served; what
//     they and the Secrets say of a name is remembered for admissions
//     until the next event of either (credentials.go).
//
// Wire it into a manager in two steps: CacheObjects when building the
// manager's cache (server.CacheOptions), New before starting it.
//
// For the CLI's --cluster, Read lists the same kinds in the same
// namespaces once (read.go), and CertManagerServed is the one test of
// whether cert-manager is installed.
package lookup

import (
	"context"
	"fmt"
	"strings"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// Indexes that New registers.
const (
	// hostIndex is a client-go index of the Ingress informer: Ingresses by
	// the hosts whose VirtualService they contribute to, the host of each
	// rule ("" for a rule without host) and "" for a defaultBackend, as
	// convert.VirtualServiceHosts returns them. The reconcilers (package
	// controller) read it too, through HostIngresses, so the cache
	// keeps one index of hosts, not two. It is not a controller-runtime
	// field index: those file every value twice (once more under its
	// namespace), and reading one through the cache's List copies every
	// Ingress found by reflection.
	hostIndex = "ingressguard.io/virtualservice-hosts"
	// tlsIndex is a client-go index of the Ingress informer: Ingresses by
	// the hosts of their tls entries, as convert.TLSHosts returns them.
	tlsIndex = "ingressguard.io/tls-hosts"
	// destIndex is a client-go index of the Ingress informer: Ingresses by
	// the Services whose DestinationRule their annotations shape, as
	// convert.DestinationServices returns them.
	destIndex = "ingressguard.io/destination-services"
	// secretNameIndex is a controller-runtime field index of cert-manager
	// Certificates by spec.secretName.
	secretNameIndex = "spec.secretName"
)

// Options say what the cache holds.
type Options struct {
	// GatewayNamespace is the only namespace whose Secrets and Certificates
	// are cached: the one Istio's ingress gateway reads certificates from.
	GatewayNamespace string
	// CertManager says whether the cluster serves cert-manager's
	// certificates.cert-manager.io/v1 API. Without it Certificates are not
	// watched (the cache could not start) and only Secrets count; installing
	// cert-manager later needs a restart to be noticed. See CertManagerServed.
	CertManager bool
	// Packed makes the cache hold each Ingress packed (packedIngress):
	// about half the memory, and little for the garbage collector
	// to mark, at the cost of decoding the Ingresses an admission reads.
	// Only for a process without reconcilers: their watches and reads
	// need typed Ingresses in the cache.
	Packed bool
}

var secretGVK = corev1.SchemeGroupVersion.WithKind("Secret")

// secretMetadata is the metadata-only form of a Secret that the cache holds.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(secretGVK)
	return m
}

// CacheObjects says how the manager's cache holds what the lookups read,
// for a scheme that has client-go's types and cert-manager's v1 types
// (server.CacheOptions puts it together with the reconcilers' part):
//
//   - Ingresses keep their spec, status and the metadata that convert and
//     the reconcilers read: name, namespace, UID, resourceVersion,
//     generation, creation and deletion timestamps, and of the annotations
//     only kubernetes.io/ingress.class, ingressguard's own and
//     ingress-nginx's (nothing reads the labels and other annotations,
//     such as Helm's, or kubectl's last-applied-configuration, a copy of
//     the whole object);
//   - Services keep only name, namespace, UID, resourceVersion,
//     spec.ports (to resolve named ports), spec.externalIPs and
//     status.loadBalancer (for Ingress status);
//   - Secrets, read as metav1.PartialObjectMetadata, and Certificates are
//     cached in o.GatewayNamespace only; Secrets keep only name, namespace,
//     UID, resourceVersion and, of their annotations, only
//     ingressguard.io/allowed-namespaces (the others can hold a copy of
//     their data, kubectl's last-applied-configuration), Certificates only
//     that plus spec.secretName and spec.dnsNames.
//
// Other readers of the same cache see these slimmed objects too. With
// o.Packed the cache holds Ingresses packed, and its typed reads of
// Ingresses fail ("cache had type"): read them through Informers.
func CacheObjects(o Options) map[client.Object]cache.ByObject {
	only := map[string]cache.Config{o.GatewayNamespace: {}}
	ingresses := slimIngress
	if o.Packed {
		ingresses = packIngress
	}
	byObject := map[client.Object]cache.ByObject{
		&networkingv1.Ingress{}: {Transform: ingresses},
		&corev1.Service{}:       {Transform: slimService},
		secretMetadata():        {Namespaces: only, Transform: slimSecret},
	}
	if o.CertManager {
		byObject[&cmv1.Certificate{}] = cache.ByObject{Namespaces: only, Transform: slimCertificate}
	}
	return byObject
}

// slimMeta keeps the identity of an object and nothing else.
func slimMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
}

// slimIngress is the cache transform of Ingresses. An Ingress that is
// already as slim passes unchanged: client-go applies transforms twice to the objects
// of a streamed initial list, and a second copy of every Ingress raised
// the peak memory of a start.
func slimIngress(in any) (any, error) {
	ing, ok := in.(*networkingv1.Ingress)
	if !ok {
		return in, nil
	}
	kept := countKept(ing.Annotations)
	if ing.Labels == nil && ing.ManagedFields == nil && ing.OwnerReferences == nil && ing.Finalizers == nil && kept == len(ing.Annotations) {
		return ing, nil
	}
	m := slimMeta(ing.ObjectMeta)
	m.Generation, m.CreationTimestamp, m.DeletionTimestamp = ing.Generation, ing.CreationTimestamp, ing.DeletionTimestamp
	m.Annotations = keptAnnotations(ing.Annotations, kept)
	return &networkingv1.Ingress{TypeMeta: ing.TypeMeta, ObjectMeta: m, Spec: ing.Spec, Status: ing.Status}, nil
}

// countKept counts the annotations of an Ingress that the cache keeps
// (cachedAnnotation).
func countKept(in map[string]string) int {
	kept := 0
	for k := range in {
		if cachedAnnotation(k) {
			kept++
		}
	}
	return kept
}

// keptAnnotations returns the annotations of an Ingress that the cache
// keeps, of which there are kept (countKept); nil for none.
func keptAnnotations(in map[string]string, kept int) map[string]string {
	if kept == 0 {
		return nil
	}
	out := make(map[string]string, kept)
	for k, v := range in {
		if cachedAnnotation(k) {
			out[k] = v
		}
	}
	return out
}

// cachedAnnotation reports whether the cache keeps an Ingress's
// annotation key: those convert reads to serve it: the class annotation,
// ingressguard's host sharing and accepted refusals, and ingress-nginx's
// annotations, which convert translates into the routes or refuses.
func cachedAnnotation(k string) bool {
	switch k {
	case convert.ClassAnnotation, convert.AnnotationShareHostWith, convert.AcceptAnnotation:
		return true
	}
	return strings.HasPrefix(k, convert.NginxPrefix)
}

// slimService is the cache transform of Services. Transforms also receive
// tombstones (client-go's cache.DeletedFinalStateUnknown), which pass
// unchanged.
func slimService(in any) (any, error) {
	s, ok := in.(*corev1.Service)
	if !ok {
		return in, nil
	}
	return &corev1.Service{
		TypeMeta:   s.TypeMeta,
		ObjectMeta: slimMeta(s.ObjectMeta),
		Spec:       corev1.ServiceSpec{Ports: s.Spec.Ports, ExternalIPs: s.Spec.ExternalIPs},
		Status:     corev1.ServiceStatus{LoadBalancer: s.Status.LoadBalancer},
	}, nil
}

// keep returns the annotations of those keys that in has, nil for none.
func keep(in map[string]string, keys ...string) map[string]string {
	var out map[string]string
	for _, k := range keys {
		if v, ok := in[k]; ok {
			if out == nil {
				out = make(map[string]string, len(keys))
			}
			out[k] = v
		}
	}
	return out
}

// slimSecret is the cache transform of Secret metadata.
func slimSecret(in any) (any, error) {
	s, ok := in.(*metav1.PartialObjectMetadata)
	if !ok {
		return in, nil
	}
	m := slimMeta(s.ObjectMeta)
	m.Annotations = keep(s.Annotations, convert.AnnotationAllowedNamespaces)
	return &metav1.PartialObjectMetadata{TypeMeta: s.TypeMeta, ObjectMeta: m}, nil
}

// slimCertificate is the cache transform of Certificates.
func slimCertificate(in any) (any, error) {
	c, ok := in.(*cmv1.Certificate)
	if !ok {
		return in, nil
	}
	m := slimMeta(c.ObjectMeta)
	m.Annotations = keep(c.Annotations, convert.AnnotationAllowedNamespaces)
	return &cmv1.Certificate{TypeMeta: c.TypeMeta, ObjectMeta: m, Spec: cmv1.CertificateSpec{SecretName: c.Spec.SecretName, DNSNames: c.Spec.DNSNames}}, nil
}

// Informers is a convert.View read from an informer cache. Its lookups
// answer from what the cache holds so far; call them only once Synced is
// true (the webhook checks it for every request, and reconcilers start
// once their caches have synced).
//
// Lookups return the cached objects themselves, not copies: convert's
// callers never modify what it returns, and copying every Ingress on a
// host was the largest allocation of an admission.
type Informers struct {
	reader    client.Reader // Secrets and Certificates, cached in one namespace
	opts      Options
	informers []cache.Informer
	// The indexers of the cluster-wide informers.
	classes, services, ingresses toolscache.Indexer
	log                          logr.Logger
	credentials                  credentialMemo
}

var _ convert.View = (*Informers)(nil)

// New registers the indexes the lookups read on c, starts (with c, when c
// starts) the informers that the lookups read and returns the Informers. c
// must have been built with CacheOptions(o) and not be started yet.
// Lookup failures other than "not found", which cannot happen once the
// cache is synced, are logged to log.
func New(ctx context.Context, c cache.Cache, o Options, log logr.Logger) (*Informers, error) {
	cl := &Informers{reader: c, opts: o, log: log}
	watch := func(obj client.Object) (cache.Informer, error) {
		inf, err := c.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil {
			return nil, fmt.Errorf("watching %T: %w", obj, err)
		}
		cl.informers = append(cl.informers, inf)
		return inf, nil
	}
	for _, w := range []struct {
		obj client.Object
		ix  *toolscache.Indexer
	}{{&networkingv1.IngressClass{}, &cl.classes}, {&networkingv1.Ingress{}, &cl.ingresses}, {&corev1.Service{}, &cl.services}} {
		inf, err := watch(w.obj)
		if err != nil {
			return nil, err
		}
		shared, ok := inf.(toolscache.SharedIndexInformer)
		if !ok {
			return nil, fmt.Errorf("watching %T: the cache's informer %T has no indexer; is the cache limited to namespaces?", w.obj, inf)
		}
		*w.ix = shared.GetIndexer()
	}
	if err := cl.ingresses.AddIndexers(toolscache.Indexers{
		hostIndex: ingressIndex(convert.VirtualServiceHosts),
		tlsIndex:  ingressIndex(convert.TLSHosts),
		destIndex: ingressIndex(convert.DestinationServices),
	}); err != nil {
		return nil, fmt.Errorf("indexing Ingresses by host: %w", err)
	}
	// The credentials memo forgets on every event of either kind.
	secrets, err := watch(secretMetadata())
	if err != nil {
		return nil, err
	}
	if _, err := secrets.AddEventHandler(cl.credentials.handler()); err != nil {
		return nil, fmt.Errorf("watching Secrets: %w", err)
	}
	if !o.CertManager {
		return cl, nil
	}
	if err := c.IndexField(ctx, &cmv1.Certificate{}, secretNameIndex, func(obj client.Object) []string {
		return []string{obj.(*cmv1.Certificate).Spec.SecretName}
	}); err != nil {
		return nil, fmt.Errorf("indexing cert-manager Certificates by spec.secretName: %w", err)
	}
	certs, err := watch(&cmv1.Certificate{})
	if err != nil {
		return nil, err
	}
	if _, err := certs.AddEventHandler(cl.credentials.handler()); err != nil {
		return nil, fmt.Errorf("watching cert-manager Certificates: %w", err)
	}
	return cl, nil
}

// Synced reports whether every informer has its initial list, so that
// lookups answer from complete data without waiting.
func (c *Informers) Synced() bool {
	for _, inf := range c.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// failed logs a lookup error that is not "not found".
func (c *Informers) failed(err error, what string, keysAndValues ...any) {
	if err != nil && !apierrors.IsNotFound(err) {
		c.log.Error(err, "cache lookup failed; answering as if absent", append([]any{"lookup", what}, keysAndValues...)...)
	}
}

// cached returns the object an indexer holds under key ("name" or
// "namespace/name"), if it is a *T.
func cached[T any](ix toolscache.Indexer, key string) (*T, bool) {
	obj, ok, err := ix.GetByKey(key)
	if err != nil || !ok {
		return nil, false
	}
	t, ok := obj.(*T)
	return t, ok
}

// IngressClass implements convert.Classes.
func (c *Informers) IngressClass(name string) (*networkingv1.IngressClass, bool) {
	return cached[networkingv1.IngressClass](c.classes, name)
}

// DefaultIngressClass implements convert.Classes.
func (c *Informers) DefaultIngressClass() (*networkingv1.IngressClass, bool) {
	var defaults []*networkingv1.IngressClass
	for _, obj := range c.classes.List() {
		if ic, ok := obj.(*networkingv1.IngressClass); ok && convert.IsDefaultClass(ic) {
			defaults = append(defaults, ic)
		}
	}
	ic := convert.NewestClass(defaults)
	return ic, ic != nil
}

// Service implements convert.Services. The Service has only its name,
// namespace and spec.ports.
func (c *Informers) Service(namespace, name string) (*corev1.Service, bool) {
	return cached[corev1.Service](c.services, namespace+"/"+name)
}

// ingressIndex is a client-go index function of Ingresses, typed or
// packed, by hosts.
func ingressIndex(hosts func(*networkingv1.Ingress) []string) toolscache.IndexFunc {
	return func(obj any) ([]string, error) {
		ing, err := asIngress(obj, (*packedIngress).ingress)
		if ing == nil || err != nil {
			return nil, err
		}
		return hosts(ing), nil
	}
}

// asIngress returns the Ingress a cache entry holds, typed or packed (then
// decoded by unpack); nil for anything else.
func asIngress(obj any, unpack func(*packedIngress) (*networkingv1.Ingress, error)) (*networkingv1.Ingress, error) {
	switch o := obj.(type) {
	case *networkingv1.Ingress:
		return o, nil
	case *packedIngress:
		return unpack(o)
	}
	return nil, nil
}

// HostIngresses implements convert.Hosts with an index lookup: the
// Ingresses whose VirtualService hosts (convert.VirtualServiceHosts)
// include host. Callers must not modify them.
func (c *Informers) HostIngresses(host string) []*networkingv1.Ingress {
	return c.byIndex(hostIndex, host, (*packedIngress).ingress)
}

// TLSIngresses implements convert.Hosts with an index lookup: the
// Ingresses whose convert.TLSHosts include host. Callers must not modify
// them.
func (c *Informers) TLSIngresses(host string) []*networkingv1.Ingress {
	return c.byIndex(tlsIndex, host, (*packedIngress).ingress)
}

// DestinationIngresses implements convert.Hosts with an index lookup:
// the Ingresses whose convert.DestinationServices include service
// ("namespace/name"). Callers must not modify them.
func (c *Informers) DestinationIngresses(service string) []*networkingv1.Ingress {
	return c.byIndex(destIndex, service, (*packedIngress).ingress)
}

// Admission returns the view of one admission: c's answers, each index
// lookup asked of the cache once however often the admission's checks ask
// (host ownership, route limits and conflicts each read the Ingresses of
// a host) and, over a packed cache (Options.Packed), each Ingress decoded
// once; what the cache says of a TLS Secret name is remembered between
// admissions (credentialMemo), so those answers may come from an earlier
// admission's read. The view is for one goroutine, and for one admission
// only: it holds the Ingresses it read, so those answers are those of the
// moment each was first asked.
func (c *Informers) Admission() convert.View {
	return &admission{Informers: c}
}

// admission is the view of one admission.
type admission struct {
	*Informers
	decoded map[*packedIngress]*networkingv1.Ingress
	// lists is a map, not a slice searched in turn: a review can name
	// thousands of hosts.
	lists map[indexKey][]*networkingv1.Ingress
}

// indexKey names one lookup of an Ingress index.
type indexKey struct{ index, key string }

func (a *admission) HostIngresses(host string) []*networkingv1.Ingress {
	return a.list(hostIndex, host)
}

func (a *admission) TLSIngresses(host string) []*networkingv1.Ingress {
	return a.list(tlsIndex, host)
}

func (a *admission) DestinationIngresses(service string) []*networkingv1.Ingress {
	return a.list(destIndex, service)
}

// list answers an index lookup, once per admission.
func (a *admission) list(index, key string) []*networkingv1.Ingress {
	k := indexKey{index, key}
	if ings, ok := a.lists[k]; ok {
		return ings
	}
	ings := a.byIndex(index, key, a.unpack)
	if a.lists == nil {
		a.lists = map[indexKey][]*networkingv1.Ingress{}
	}
	a.lists[k] = ings
	return ings
}

// unpack decodes p, once per admission.
func (a *admission) unpack(p *packedIngress) (*networkingv1.Ingress, error) {
	if ing, ok := a.decoded[p]; ok {
		return ing, nil
	}
	ing, err := p.ingress()
	if err != nil {
		return nil, err
	}
	if a.decoded == nil {
		a.decoded = map[*packedIngress]*networkingv1.Ingress{}
	}
	a.decoded[p] = ing
	return ing, nil
}

// DestinationKeys returns every Service ("namespace/name") that an
// Ingress's convert.DestinationServices name: the keys of the generated
// DestinationRules, and a few more (the Ingresses may not be ours).
func (c *Informers) DestinationKeys() []string {
	return c.ingresses.ListIndexFuncValues(destIndex)
}

// HostKeys returns every host that an Ingress's VirtualServiceHosts or
// TLSHosts name: the keys of the generated Gateways and VirtualServices,
// and a few more (the Ingresses may not be ours).
func (c *Informers) HostKeys() []string {
	keys := c.ingresses.ListIndexFuncValues(hostIndex)
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		seen[k] = true
	}
	for _, k := range c.ingresses.ListIndexFuncValues(tlsIndex) {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	return keys
}

func (c *Informers) byIndex(index, host string, unpack func(*packedIngress) (*networkingv1.Ingress, error)) []*networkingv1.Ingress {
	objs, err := c.ingresses.ByIndex(index, host)
	if err != nil {
		c.failed(err, "Ingresses", "index", index, "host", host)
		return nil
	}
	out := make([]*networkingv1.Ingress, 0, len(objs))
	for _, obj := range objs {
		ing, err := asIngress(obj, unpack)
		c.failed(err, "Ingresses", "index", index, "host", host)
		if ing != nil {
			out = append(out, ing)
		}
	}
	return out
}
