package compact

import (
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// ingress is an Ingress with rules rules of two paths each, and with
// every optional field of the spec and status set.
func ingress(rules int) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{Kind: "Ingress", APIVersion: "networking.k8s.io/v1"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("istio"),
			DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "fallback", Port: networkingv1.ServiceBackendPort{Name: "http"}}},
		},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
			{IP: "192.0.2.10", Ports: []networkingv1.IngressPortStatus{{Port: 443, Protocol: corev1.ProtocolTCP, Error: ptr.To("pending")}}},
			{Hostname: "lb.example.com"},
		}}},
	}
	for i := range rules {
		host := fmt.Sprintf("app-%d.example.com", i)
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: fmt.Sprintf("web-%d", i), Port: networkingv1.ServiceBackendPort{Number: 80}}}},
				{Path: "/static", PathType: ptr.To(networkingv1.PathTypeExact), Backend: networkingv1.IngressBackend{
					Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr.To("storage.example.com"), Kind: "Bucket", Name: "assets"}}},
			}}}})
		ing.Spec.TLS = append(ing.Spec.TLS, networkingv1.IngressTLS{Hosts: []string{host, "www." + host}, SecretName: fmt.Sprintf("tls-%d", i)})
	}
	return ing
}

// meta is the metadata a cache keeps of an Ingress.
func meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: "web", Namespace: "shop", UID: "3f1c0000-0000-4000-8000-000000000001", ResourceVersion: "42", Generation: 3,
		CreationTimestamp: metav1.Unix(1700000000, 0), DeletionTimestamp: ptr.To(metav1.Unix(1700000100, 0)),
		Labels:      map[string]string{"team": "shop"},
		Annotations: map[string]string{"kubernetes.io/ingress.class": "istio"},
	}
}

// TestIngress: the copy holds the same values, keeps nil and empty slices
// apart, and shares nothing that a change to the original would reach.
func TestIngress(t *testing.T) {
	empty := ingress(1)
	empty.Spec.Rules = append(empty.Spec.Rules,
		networkingv1.IngressRule{Host: "nohttp.example.com"},
		networkingv1.IngressRule{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{}}}},
		networkingv1.IngressRule{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}})
	empty.Spec.TLS = append(empty.Spec.TLS, networkingv1.IngressTLS{Hosts: []string{}}, networkingv1.IngressTLS{SecretName: "wildcard"})
	empty.Status.LoadBalancer.Ingress[1].Ports = []networkingv1.IngressPortStatus{}
	odd := ingress(1)
	odd.Spec.Rules[0].HTTP.Paths[0].PathType = ptr.To(networkingv1.PathType("Regex"))
	odd.Spec.Rules[0].HTTP.Paths[1].PathType = nil
	odd.Spec.DefaultBackend = &networkingv1.IngressBackend{}

	for _, tc := range []struct {
		name string
		in   *networkingv1.Ingress
		meta metav1.ObjectMeta
	}{
		{"zero", &networkingv1.Ingress{}, metav1.ObjectMeta{}},
		{"every field", ingress(3), meta()},
		{"empty, not nil", empty, metav1.ObjectMeta{Name: "web", Labels: map[string]string{}}},
		{"empty slices", &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{}, TLS: []networkingv1.IngressTLS{}},
			Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{}}}}, meta()},
		{"unknown and missing path types", odd, meta()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.in.DeepCopy()
			want.ObjectMeta = *tc.meta.DeepCopy()
			got := Ingress(tc.in, tc.meta)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("copy differs:\n got %#v\nwant %#v", got, want)
			}
			scribble(tc.in)
			scribbleMeta(&tc.meta)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("changing the original changed the copy:\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

// scribble changes every value reachable through a pointer, slice or map
// of ing.
func scribble(ing *networkingv1.Ingress) {
	s := &ing.Spec
	if s.IngressClassName != nil {
		*s.IngressClassName = "changed"
	}
	backend := func(b *networkingv1.IngressBackend) {
		if b.Service != nil {
			b.Service.Name, b.Service.Port = "changed", networkingv1.ServiceBackendPort{Number: 1}
		}
		if b.Resource != nil {
			b.Resource.Name, b.Resource.APIGroup = "changed", nil
		}
	}
	if s.DefaultBackend != nil {
		backend(s.DefaultBackend)
	}
	for i := range s.Rules {
		s.Rules[i].Host = "changed"
		if h := s.Rules[i].HTTP; h != nil {
			for j := range h.Paths {
				h.Paths[j].Path = "changed"
				if h.Paths[j].PathType != nil {
					*h.Paths[j].PathType = "changed"
				}
				backend(&h.Paths[j].Backend)
			}
			h.Paths = nil
		}
	}
	for i := range s.TLS {
		for j := range s.TLS[i].Hosts {
			s.TLS[i].Hosts[j] = "changed"
		}
		s.TLS[i].SecretName = "changed"
	}
	for i, e := range ing.Status.LoadBalancer.Ingress {
		ing.Status.LoadBalancer.Ingress[i].IP = "changed"
		for j := range e.Ports {
			e.Ports[j].Port = 1
			if e.Ports[j].Error != nil {
				*e.Ports[j].Error = "changed"
			}
		}
	}
}

// scribbleMeta changes every value of m reachable through a pointer or map.
func scribbleMeta(m *metav1.ObjectMeta) {
	if m.DeletionTimestamp != nil {
		*m.DeletionTimestamp = metav1.Unix(0, 0)
	}
	for _, mm := range []map[string]string{m.Labels, m.Annotations} {
		for k := range mm {
			mm[k] = "changed"
		}
		if mm != nil {
			mm["added"] = "x"
		}
	}
}

// TestPathTypesShared: valid path types are shared pointers, so that no
// Ingress path costs an allocation for its type.
func TestPathTypesShared(t *testing.T) {
	a, b := Ingress(ingress(2), meta()), Ingress(ingress(1), meta())
	pa, pb := a.Spec.Rules[1].HTTP.Paths[0].PathType, b.Spec.Rules[0].HTTP.Paths[0].PathType
	if pa != pb || *pa != networkingv1.PathTypePrefix {
		t.Errorf("Prefix path types of two copies: %p (%s), %p (%s); want one shared pointer", pa, *pa, pb, *pb)
	}
}

// TestIngressAllocations: a copy costs about as many allocations with
// twenty rules, forty paths and forty TLS hosts as with one of each. Each
// rule cost ten more before the copies were compacted.
func TestIngressAllocations(t *testing.T) {
	small, large := ingress(1), ingress(20)
	m := metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "3f1c0000-0000-4000-8000-000000000001", ResourceVersion: "42"}
	one := testing.AllocsPerRun(50, func() { Ingress(small, m) })
	twenty := testing.AllocsPerRun(50, func() { Ingress(large, m) })
	// Resource backends are deep copies, one allocation each and another
	// for the API group; the list of string fields grows as it fills.
	const perResource, listGrowth = 2, 6
	t.Logf("allocations per copy: %.0f with one rule, %.0f with twenty", one, twenty)
	if extra := twenty - one - 19*perResource; extra > listGrowth {
		t.Errorf("a copy of 20 rules costs %.0f allocations, of one %.0f: %.0f more than its 19 more resource backends", twenty, one, extra)
	}
}

// TestStrings: packed fields and maps keep their values and share one
// string.
func TestStrings(t *testing.T) {
	var s Strings
	meta := metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid", Annotations: map[string]string{"a": "1", "b": ""}}
	typ := metav1.TypeMeta{Kind: "VirtualService"}
	extra := ""
	s.Meta(&typ, &meta)
	s.Add(&extra)
	s.Map(&meta.Annotations, meta.Annotations)
	var labels map[string]string
	s.Map(&labels, nil)
	s.Pack()
	if meta.Name != "web" || meta.Namespace != "shop" || meta.UID != "uid" || typ.Kind != "VirtualService" || extra != "" {
		t.Errorf("packed fields: %+v %+v %q", typ, meta, extra)
	}
	if !reflect.DeepEqual(meta.Annotations, map[string]string{"a": "1", "b": ""}) || labels != nil {
		t.Errorf("packed maps: %v, %v", meta.Annotations, labels)
	}
	// Packed strings follow each other in one string.
	prev := typ.Kind
	for _, f := range []string{meta.Name, meta.Namespace, string(meta.UID)} {
		if unsafe.StringData(f) != (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(prev)), len(prev))) {
			t.Errorf("%q does not follow %q in one string", f, prev)
		}
		prev = f
	}
}
