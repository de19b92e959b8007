package lookup

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// countingMapper counts the RESTMapping calls that reach it.
type countingMapper struct {
	meta.RESTMapper
	calls int
}

func (c *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	c.calls++
	return c.RESTMapper.RESTMapping(gk, versions...)
}

// TestMemoMapper: a mapping found once is answered from memory with the
// same result; what was not found is asked again, so a type installed
// later is found.
func TestMemoMapper(t *testing.T) {
	secret := schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	gateway := schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "Gateway"}
	defaults := meta.NewDefaultRESTMapper(nil)
	defaults.Add(secret, meta.RESTScopeNamespace)
	inner := &countingMapper{RESTMapper: defaults}
	m := &memoMapper{RESTMapper: inner}

	for range 3 {
		r, err := m.RESTMapping(secret.GroupKind(), secret.Version)
		if err != nil || r.Scope.Name() != meta.RESTScopeNameNamespace || r.Resource.Resource != "secrets" {
			t.Fatalf("RESTMapping(Secret) = %+v, %v", r, err)
		}
	}
	if inner.calls != 1 {
		t.Errorf("the mapper was asked %d times for Secrets, want 1", inner.calls)
	}
	for range 2 {
		if _, err := m.RESTMapping(gateway.GroupKind(), gateway.Version); !meta.IsNoMatchError(err) {
			t.Fatalf("RESTMapping(Gateway) before it exists: %v, want no match", err)
		}
	}
	defaults.Add(gateway, meta.RESTScopeNamespace)
	if r, err := m.RESTMapping(gateway.GroupKind(), gateway.Version); err != nil || r.GroupVersionKind != gateway {
		t.Fatalf("RESTMapping(Gateway) once it exists = %+v, %v", r, err)
	}
	if inner.calls != 4 {
		t.Errorf("the mapper was asked %d times in all, want 4 (1 Secret, 3 Gateway)", inner.calls)
	}
	if _, err := m.RESTMapping(secret.GroupKind(), "v1", "v2"); err != nil || inner.calls != 5 {
		t.Errorf("with several versions the mapper is always asked: %v, %d calls", err, inner.calls)
	}
}
