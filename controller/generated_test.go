package controller

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// generated converts one Ingress and returns its Gateway and VirtualService.
func generated(t *testing.T) (*istionet.Gateway, *istionet.VirtualService) {
	t.Helper()
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: networkingv1.IngressSpec{
		TLS: []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "shop-tls"}},
		Rules: []networkingv1.IngressRule{{Host: "shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/api", PathType: &pt, Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "api", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}},
	}}
	s := convert.DefaultSettings()
	s.Mode = convert.ModeDefault
	res := s.Convert(convert.Snapshot{Ingresses: []*networkingv1.Ingress{ing}})
	if len(res.Gateways) != 1 || len(res.VirtualServices) != 1 {
		t.Fatalf("converted to %d Gateways and %d VirtualServices", len(res.Gateways), len(res.VirtualServices))
	}
	return res.Gateways[0], res.VirtualServices[0]
}

// served is desired as put writes it, stamped with its spec digest and
// generation, and as the metadata API then serves it: with a UID, a
// resourceVersion and managedFields.
func served(t *testing.T, desired client.Object, generation int64, edit func(*metav1.ObjectMeta)) *metav1.PartialObjectMetadata {
	t.Helper()
	m := metadataOf(gvkOf(desired))
	desired.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta).DeepCopyInto(&m.ObjectMeta)
	m.UID, m.ResourceVersion, m.Generation = "3f1c0000-0000-4000-8000-000000000001", "42", generation
	m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationUpdate}}
	if edit != nil {
		edit(&m.ObjectMeta)
	}
	b, err := json.Marshal(m) // as the cache decodes it
	if err != nil {
		t.Fatal(err)
	}
	out := &metav1.PartialObjectMetadata{}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// stamped is desired as put stamps it before writing generation.
func stamped(desired client.Object, generation int64) client.Object {
	d := desired.DeepCopyObject().(client.Object)
	stamp(d, AnnotationSpecDigest, specDigest(specOf(d)))
	stamp(d, AnnotationSpecGeneration, strconv.FormatInt(generation, 10))
	return d
}

// slim is the cached copy of m.
func slim(t *testing.T, m *metav1.PartialObjectMetadata) *metav1.PartialObjectMetadata {
	t.Helper()
	out, err := slimGenerated(m)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*metav1.PartialObjectMetadata)
}

// TestUpToDate: the cached copy of a generated object says it is up to date
// exactly when the object has the managed labels, annotations and spec that
// put would write, whatever else was added to it.
func TestUpToDate(t *testing.T) {
	gw, vs := generated(t)
	for _, tc := range []struct {
		name       string
		desired    client.Object
		generation int64 // of the live object; put wrote generation 3
		edit       func(*metav1.ObjectMeta)
		want       bool
	}{
		{name: "Gateway as written", desired: gw, generation: 3, want: true},
		{name: "VirtualService as written", desired: vs, generation: 3, want: true},
		{name: "spec changed by someone else", desired: vs, generation: 4},
		{name: "foreign label and last-applied annotation", desired: vs, generation: 3, want: true, edit: func(m *metav1.ObjectMeta) {
			m.Labels["team"] = "shop"
			m.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = strings.Repeat("x", 4096)
		}},
		{name: "managed label changed", desired: gw, generation: 3, edit: func(m *metav1.ObjectMeta) { m.Labels[convert.LabelHost] = "other" }},
		{name: "managed annotation changed", desired: vs, generation: 3, edit: func(m *metav1.ObjectMeta) { m.Annotations[convert.AnnotationIngresses] = "shop/other" }},
		{name: "spec digest annotation changed", desired: vs, generation: 3, edit: func(m *metav1.ObjectMeta) {
			m.Annotations[AnnotationSpecDigest] = specDigest(&gw.Spec)
		}},
		{name: "spec generation annotation removed", desired: gw, generation: 3, edit: func(m *metav1.ObjectMeta) { delete(m.Annotations, AnnotationSpecGeneration) }},
		{name: "cached digest forged on the object", desired: vs, generation: 4, edit: func(m *metav1.ObjectMeta) {
			m.Annotations[digestKey] = digestOf(m.Labels, m.Annotations)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			written := stamped(tc.desired, 3)
			c := slim(t, served(t, written, tc.generation, tc.edit))
			want := stamped(tc.desired, 0) // put stamps the digest before it asks
			if got := upToDate(c, want); got != tc.want {
				t.Errorf("up to date = %v, want %v (cached %v)", got, tc.want, c.ObjectMeta)
			}
			if again := slim(t, c); again != c {
				t.Errorf("a second transform changed the cached copy")
			}
			if len(c.Labels) != 1 || c.Labels[convert.LabelManagedBy] != convert.ManagedBy || len(c.Annotations) != 2 {
				t.Errorf("cached copy keeps labels %v and annotations %v, want the managed-by label, the digest and the work key", c.Labels, c.Annotations)
			}
		})
	}

	// A desired object that changed since the write is not up to date.
	other, _ := generated(t)
	other.Spec.Servers[0].Port.Number = 8080
	if upToDate(slim(t, served(t, stamped(gw, 3), 3, nil)), stamped(other, 0)) {
		t.Errorf("a Gateway written with another spec counts as up to date")
	}
	// The watches map cached copies to work keys.
	if a := slim(t, served(t, stamped(gw, 1), 1, nil)).Annotations[convert.AnnotationHost]; a != "shop.example.com" {
		t.Errorf("cached Gateway's %s = %q", convert.AnnotationHost, a)
	}
	if a := slim(t, served(t, stamped(vs, 1), 1, nil)).Annotations[convert.AnnotationHost]; a != "shop.example.com" {
		t.Errorf("cached VirtualService's %s = %q", convert.AnnotationHost, a)
	}
}

// TestManagedKeys: the digests cover every label and annotation that convert
// sets and put stamps; one they missed would let a hand edit of it stand.
func TestManagedKeys(t *testing.T) {
	gw, vs := generated(t)
	for _, o := range []client.Object{stamped(gw, 1), stamped(vs, 1)} {
		for k := range o.GetLabels() {
			if !slices.Contains(managedLabelKeys, k) {
				t.Errorf("%s: label %s is not in managedLabelKeys", o.GetName(), k)
			}
		}
		for k := range o.GetAnnotations() {
			if !slices.Contains(managedAnnotationKeys, k) && k != AnnotationSpecGeneration {
				t.Errorf("%s: annotation %s is not in managedAnnotationKeys", o.GetName(), k)
			}
		}
	}
}
