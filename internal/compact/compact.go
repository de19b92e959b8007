// Package compact copies objects for informer caches into few heap
// allocations.
//
// A decoded object is a tree of small allocations: every string, every
// slice, every pointer field has its own, and the garbage collector visits
// every one in each cycle. The copies made here hold the same values in a
// handful of allocations: one string holds all of an object's strings,
// and all the elements of one slice type share one array. With 10,000
// Ingresses they took serve's live heap from about 440,000 objects to
// 185,000, for the same bytes, and its mark phases from about 20.5 ms to
// 18 ms: the admissions that meet a mark phase make the webhook's tail.
//
// The copies share memory with each other where a value is a constant
// (see Ingress), so, like everything an informer cache holds, they must
// never be modified.
package compact

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Strings moves the values of string fields into one allocation. Add
// fields (and Map maps) while building a copy, then Pack once: each field
// then holds a substring of one new string, equal to its value before.
// The zero value is ready to use.
type Strings struct {
	fields []*string
	maps   []mapCopy
}

// mapCopy is a map that Pack sets: pairs holds its keys and values, in
// turn, as fields of the Strings.
type mapCopy struct {
	dst   *map[string]string
	pairs []string
}

// Add adds string fields. A field must not change before Pack.
func (s *Strings) Add(fields ...*string) {
	for _, f := range fields {
		if *f != "" {
			s.fields = append(s.fields, f)
		}
	}
}

// Meta adds the strings of the kind and of the identity of an object:
// kind, apiVersion, name, generateName, namespace, UID and resourceVersion
// (not the deprecated selfLink, which the API server no longer sets); its
// labels and annotations are left to Map.
func (s *Strings) Meta(t *metav1.TypeMeta, m *metav1.ObjectMeta) {
	s.Add(&t.Kind, &t.APIVersion, &m.Name, &m.GenerateName, &m.Namespace, (*string)(&m.UID), &m.ResourceVersion)
}

// Map makes Pack set *dst to a copy of m whose keys and values are in the
// packed string. A nil m stays nil.
func (s *Strings) Map(dst *map[string]string, m map[string]string) {
	if m == nil {
		*dst = nil
		return
	}
	c := mapCopy{dst: dst, pairs: make([]string, 0, 2*len(m))}
	for k, v := range m {
		c.pairs = append(c.pairs, k, v)
	}
	for i := range c.pairs {
		s.Add(&c.pairs[i])
	}
	s.maps = append(s.maps, c)
}

// Pack moves the added fields into one new string and sets the maps.
func (s *Strings) Pack() {
	n := 0
	for _, f := range s.fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range s.fields {
		b.WriteString(*f)
	}
	all := b.String()
	for _, f := range s.fields {
		*f, all = all[:len(*f)], all[len(*f):]
	}
	for _, c := range s.maps {
		m := make(map[string]string, len(c.pairs)/2)
		for i := 0; i < len(c.pairs); i += 2 {
			m[c.pairs[i]] = c.pairs[i+1]
		}
		*c.dst = m
	}
	*s = Strings{}
}
