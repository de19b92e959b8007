package lookup

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// NewCache is cache.New for a manager (manager.Options.NewCache) whose
// cache remembers every REST mapping it has found. A cache that holds a
// type in some namespaces only, as CacheObjects does for Secrets and
// Certificates, asks its RESTMapper on every Get and List whether the type
// is namespaced, and the manager's mapper answers by trying each API group
// in turn: on every reconcile that reads a TLS Secret, and on every
// admission that credentialMemo cannot answer. A cache reads a fixed set of types whose mappings do
// not change while they are served, so the memory stays small; failed
// lookups are not remembered, so a type installed later is still found.
func NewCache(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
	if opts.Mapper != nil {
		opts.Mapper = &memoMapper{RESTMapper: opts.Mapper}
	}
	return cache.New(cfg, opts)
}

// memoMapper remembers the successful RESTMapping answers of a mapper for
// one version.
type memoMapper struct {
	meta.RESTMapper
	found sync.Map // schema.GroupVersionKind -> *meta.RESTMapping
}

// RESTMapping implements meta.RESTMapper.
func (m *memoMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if len(versions) != 1 {
		return m.RESTMapper.RESTMapping(gk, versions...)
	}
	key := gk.WithVersion(versions[0])
	if r, ok := m.found.Load(key); ok {
		return r.(*meta.RESTMapping), nil
	}
	r, err := m.RESTMapper.RESTMapping(gk, versions...)
	if err == nil {
		m.found.Store(key, r)
	}
	return r, err
}
