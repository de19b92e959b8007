package controller

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// generated converts one Ingress and returns its Gateway and VirtualService.
func generated(t testing.TB) (*istionet.Gateway, *istionet.VirtualService) {
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

// served is desired as the API server serves it after put wrote it and
// edit changed it: with a UID, a resourceVersion, a generation and
// managedFields, decoded from JSON as the cache decodes it.
func served(t *testing.T, desired client.Object, edit func(client.Object)) client.Object {
	t.Helper()
	o := desired.DeepCopyObject().(client.Object)
	o.SetUID("3f1c0000-0000-4000-8000-000000000001")
	o.SetResourceVersion("42")
	o.SetGeneration(3)
	o.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationUpdate}})
	if edit != nil {
		edit(o)
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	out := emptyLike(desired)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// slim is the cached copy of o.
func slim(t *testing.T, o client.Object) client.Object {
	t.Helper()
	out, err := slimGenerated(o)
	if err != nil {
		t.Fatal(err)
	}
	return out.(client.Object)
}

// TestUpToDate: the cached copy of a generated object says it is up to date
// exactly when the object has the managed labels, annotations and spec that
// put would write, whatever else was added to it, and whatever the object's
// annotations claim about its spec.
func TestUpToDate(t *testing.T) {
	gw, vs := generated(t)
	hijack := func(o client.Object) {
		o.(*istionet.VirtualService).Spec.Http[0].Route[0].Destination.Host = "hijacked.shop.svc.cluster.local"
	}
	for _, tc := range []struct {
		name    string
		desired client.Object
		edit    func(client.Object)
		want    bool
	}{
		{name: "Gateway as written", desired: gw, want: true},
		{name: "VirtualService as written", desired: vs, want: true},
		{name: "spec changed by someone else", desired: vs, edit: hijack},
		{name: "spec changed, with the stamps of older versions set to the new generation", desired: vs, edit: func(o client.Object) {
			hijack(o)
			a := o.GetAnnotations()
			a["ingressguard.io/spec-generation"] = "4"
			a["ingressguard.io/spec-digest"] = specDigest(&vs.Spec)
		}},
		{name: "spec changed, with the cached digest forged on the object", desired: vs, edit: func(o client.Object) {
			hijack(o)
			o.GetAnnotations()[digestKey] = digestOf(vs)
		}},
		{name: "foreign label and last-applied annotation", desired: vs, want: true, edit: func(o client.Object) {
			o.GetLabels()["team"] = "shop"
			o.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"] = strings.Repeat("x", 4096)
		}},
		{name: "managed label changed", desired: gw, edit: func(o client.Object) { o.GetLabels()[convert.LabelHost] = "other" }},
		{name: "managed annotation changed", desired: vs, edit: func(o client.Object) { o.GetAnnotations()[convert.AnnotationIngresses] = "shop/other" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := slim(t, served(t, tc.desired, tc.edit))
			if got := upToDate(c, tc.desired); got != tc.want {
				t.Errorf("up to date = %v, want %v (cached %v)", got, tc.want, c)
			}
			if again := slim(t, c); again != c {
				t.Errorf("a second transform changed the cached copy")
			}
			if len(c.GetLabels()) != 1 || c.GetLabels()[convert.LabelManagedBy] != convert.ManagedBy || len(c.GetAnnotations()) != 2 {
				t.Errorf("cached copy keeps labels %v and annotations %v, want the managed-by label, the digest and the recorded host", c.GetLabels(), c.GetAnnotations())
			}
			if proto.Size(specOf(c)) != 0 {
				t.Errorf("cached copy keeps a spec of %d bytes", proto.Size(specOf(c)))
			}
		})
	}

	// A desired object that changed since the write is not up to date.
	other, _ := generated(t)
	other.Spec.Servers[0].Port.Number = 8080
	if upToDate(slim(t, served(t, gw, nil)), other) {
		t.Errorf("a Gateway written with another spec counts as up to date")
	}
	// The watches map cached copies to work keys, and writes check the
	// recorded host.
	for _, o := range []client.Object{gw, vs} {
		if a := slim(t, served(t, o, nil)).GetAnnotations()[convert.AnnotationHost]; a != "shop.example.com" {
			t.Errorf("cached %T's %s = %q", o, convert.AnnotationHost, a)
		}
	}
}

// BenchmarkDigestOf measures what the cache does per generated object it
// receives (on a resync, per object): decode the object the watch brings
// (as JSON) and slim it to its digest (slimGenerated), for a
// VirtualService of one route and of convert.MaxRoutesPerHost routes, the
// most a host may have; and the digest alone.
func BenchmarkDigestOf(b *testing.B) {
	for _, n := range []int{1, convert.MaxRoutesPerHost} {
		_, vs := generated(b)
		routes := make([]*istioapi.HTTPRoute, n)
		for i := range routes {
			r := proto.Clone(vs.Spec.Http[0]).(*istioapi.HTTPRoute)
			r.Match[0].Uri = &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Prefix{Prefix: fmt.Sprintf("/api/v1/service-%d/", i)}}
			routes[i] = r
		}
		vs.Spec.Http = routes
		raw, err := json.Marshal(vs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("digest/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				digestOf(vs)
			}
			b.ReportMetric(float64(proto.Size(&vs.Spec)), "spec-bytes")
		})
		b.Run(fmt.Sprintf("decode-and-slim/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var live istionet.VirtualService
				if err := json.Unmarshal(raw, &live); err != nil {
					b.Fatal(err)
				}
				if _, err := slimGenerated(&live); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(raw)), "json-bytes")
		})
	}
}

// TestManagedKeys: the digests cover every label and annotation that convert
// sets; one they missed would let a hand edit of it stand.
func TestManagedKeys(t *testing.T) {
	gw, vs := generated(t)
	for _, o := range []client.Object{gw, vs} {
		for k := range o.GetLabels() {
			if !slices.Contains(managedLabelKeys, k) {
				t.Errorf("%s: label %s is not in managedLabelKeys", o.GetName(), k)
			}
		}
		for k := range o.GetAnnotations() {
			if !slices.Contains(managedAnnotationKeys, k) {
				t.Errorf("%s: annotation %s is not in managedAnnotationKeys", o.GetName(), k)
			}
		}
	}
}
