package lookup

import (
	"context"
	"sync"
	"sync/atomic"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// credential is what the cache says of one Secret name in the gateway
// namespace: whether the Secret exists, what its annotation declares, and
// the Certificate that issues it, if any.
type credential struct {
	exists, declared bool
	namespaces       string
	cert             *cmv1.Certificate
	// failed says a lookup failed otherwise than "not found" (logged):
	// such an answer is not remembered.
	failed bool
}

// certificateName is the name of c's Certificate, if it has one.
func (c credential) certificateName() (string, bool) {
	if c.cert == nil {
		return "", false
	}
	return c.cert.Name, true
}

// use is the convert.CredentialUse of c.
func (c credential) use() convert.CredentialUse {
	use := convert.CredentialUse{Declared: c.declared, Namespaces: c.namespaces}
	if c.cert != nil {
		use = convert.UseOf(use, c.cert)
	}
	return use
}

// maxRemembered bounds the names a credentialMemo holds: each admission
// asks for the names its Ingress writes, so anyone who may create an
// Ingress chooses them. Names longer than a Secret's name can be, which
// only a review sent around the API server carries, are never remembered.
const maxRemembered = 256

// credentialMemo remembers the answers of the cache about Secret names
// for admissions (Informers.Admission), until the next event of the
// Secret or Certificate informers. The lookups behind one answer go
// through controller-runtime's cache, which for a type cached in one
// namespace finds the informer and copies by reflection on every read: a
// third of the cost of validating an Ingress with TLS against the cache
// (BenchmarkAdmissionView). An answer may lag the informers' stores by the
// time their events take to reach the handler that invalidates it, as the
// stores lag the API server.
type credentialMemo struct {
	gen     atomic.Uint64 // counts the informers' events
	mu      sync.RWMutex
	at      uint64 // the gen for which answers hold
	answers map[string]credential
}

// changed is the event handler of the Secret and Certificate informers.
func (m *credentialMemo) changed() { m.gen.Add(1) }

// handler calls changed on every event.
func (m *credentialMemo) handler() toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { m.changed() },
		UpdateFunc: func(any, any) { m.changed() },
		DeleteFunc: func(any) { m.changed() },
	}
}

// get returns the remembered answer for name, or read's, which it
// remembers unless an event came while read ran.
func (m *credentialMemo) get(name string, read func() credential) credential {
	g := m.gen.Load()
	m.mu.RLock()
	a, ok := m.answers[name]
	ok = ok && m.at == g
	m.mu.RUnlock()
	if ok {
		return a
	}
	a = read()
	if a.failed || len(name) > validation.DNS1123SubdomainMaxLength {
		return a
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gen.Load() != g {
		return a
	}
	if m.answers == nil || m.at != g || len(m.answers) >= maxRemembered {
		m.answers, m.at = make(map[string]credential), g
	}
	m.answers[name] = a
	return a
}

// secretProbes recycles the objects secret reads into.
var secretProbes = sync.Pool{New: func() any { return new(metav1.PartialObjectMetadata) }}

// credential reads what the cache says of the Secret name.
func (c *Informers) credential(name string) credential {
	var cred credential
	cred.cert, cred.failed = c.certificate(name)
	probe := secretProbes.Get().(*metav1.PartialObjectMetadata)
	defer secretProbes.Put(probe)
	// A read overwrites the probe's kind too; the cache finds the informer
	// by it.
	*probe = metav1.PartialObjectMetadata{}
	probe.SetGroupVersionKind(secretGVK)
	err := c.reader.Get(context.Background(), client.ObjectKey{Namespace: c.opts.GatewayNamespace, Name: name}, probe, client.UnsafeDisableDeepCopy)
	c.failed(err, "Secret", "namespace", c.opts.GatewayNamespace, "name", name)
	cred.failed = cred.failed || err != nil && !apierrors.IsNotFound(err)
	if cred.exists = err == nil; cred.exists {
		cred.namespaces, cred.declared = probe.Annotations[convert.AnnotationAllowedNamespaces]
	}
	return cred
}

// SecretExists implements convert.Credentials.
func (c *Informers) SecretExists(name string) bool { return c.credential(name).exists }

// CertificateFor implements convert.Credentials. When several Certificates
// issue the same Secret, the first by name is returned.
func (c *Informers) CertificateFor(secretName string) (string, bool) {
	return c.credential(secretName).certificateName()
}

// CredentialUse implements convert.Credentials from the Secret's
// annotation and its Certificate's (convert.UseOf), as the cache keeps
// them.
func (c *Informers) CredentialUse(secretName string) convert.CredentialUse {
	return c.credential(secretName).use()
}

// remembered is credential through the memo: only admissions read it.
// A reconciler must not: the event that queues its reconcile can reach it
// before the memo's handler has forgotten the answer the event changed,
// and that reconcile would then write from the old answer until the next
// event.
func (c *Informers) remembered(name string) credential {
	return c.credentials.get(name, func() credential { return c.credential(name) })
}

func (a *admission) SecretExists(name string) bool { return a.remembered(name).exists }

func (a *admission) CertificateFor(secretName string) (string, bool) {
	return a.remembered(secretName).certificateName()
}

func (a *admission) CredentialUse(secretName string) convert.CredentialUse {
	return a.remembered(secretName).use()
}

// certificate returns the cached Certificate that issues the Secret, the
// first by name when several do, or nil; failed says the lookup failed
// (logged).
func (c *Informers) certificate(secretName string) (_ *cmv1.Certificate, failed bool) {
	if !c.opts.CertManager {
		return nil, false
	}
	var list cmv1.CertificateList
	if err := c.reader.List(context.Background(), &list, client.InNamespace(c.opts.GatewayNamespace),
		client.MatchingFields{secretNameIndex: secretName}, client.UnsafeDisableDeepCopy); err != nil {
		c.failed(err, "Certificates", "namespace", c.opts.GatewayNamespace, "secretName", secretName)
		return nil, true
	}
	if len(list.Items) == 0 {
		return nil, false
	}
	first := &list.Items[0]
	for i := range list.Items {
		if list.Items[i].Name < first.Name {
			first = &list.Items[i]
		}
	}
	return first, false
}
