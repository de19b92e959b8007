package lookup

import (
	"reflect"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/ingressguard/ingressguard/convert"
)

// helmIngress is an Ingress as a Helm chart writes it and the API server
// stores it: labels, Helm's and kubectl's annotations, managedFields and a
// status beside what convert reads.
func helmIngress() *networkingv1.Ingress {
	prefix, exact := networkingv1.PathTypePrefix, networkingv1.PathTypeExact
	class := "istio"
	created := metav1.NewTime(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "team-a", UID: "2c6a4d4e-1b0f-4c9e-9a43-0d8b0c2f5e11", ResourceVersion: "4711", Generation: 3,
			CreationTimestamp: created,
			Labels:            map[string]string{"app.kubernetes.io/managed-by": "Helm"},
			Annotations: map[string]string{
				"meta.helm.sh/release-name":                        "web",
				"kubectl.kubernetes.io/last-applied-configuration": `{"spec":{}}`,
				convert.AnnotationShareHostWith:                    "team-b",
				convert.NginxPrefix + "rewrite-target":             "/",
			},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "helm", Operation: metav1.ManagedFieldsOperationUpdate}},
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{"web.example.com"}, SecretName: "web-tls"}},
			Rules: []networkingv1.IngressRule{{Host: "web.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
				HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					{Path: "/", PathType: &prefix, Backend: backend},
					{Path: "/favicon.ico", PathType: &exact, Backend: backend},
				}}}}},
		},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
			Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.10"}}}},
	}
}

func TestPackIngress(t *testing.T) {
	in := helmIngress()
	want := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name: in.Name, Namespace: in.Namespace, CreationTimestamp: in.CreationTimestamp,
			Annotations: map[string]string{
				convert.AnnotationShareHostWith:        "team-b",
				convert.NginxPrefix + "rewrite-target": "/",
			},
		},
		Spec: in.Spec,
	}
	packed, err := packIngress(in)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := packed.(*packedIngress)
	if !ok {
		t.Fatalf("packIngress returned %T, want *packedIngress", packed)
	}
	got, err := p.ingress()
	if err != nil {
		t.Fatal(err)
	}
	// What convert reads of other Ingresses comes back whole; the status,
	// labels, other annotations and identity fields only the reconcilers
	// read do not.
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("unpacked Ingress =\n%+v\nwant\n%+v", got, want)
	}
	if key, err := toolscache.MetaNamespaceKeyFunc(p); err != nil || key != "team-a/web" {
		t.Errorf("store key = %q, %v; want team-a/web", key, err)
	}
	// client-go applies transforms twice to a streamed initial list, and
	// hands tombstones to them.
	for _, obj := range []any{p, toolscache.DeletedFinalStateUnknown{Key: "team-a/web", Obj: p}} {
		if again, err := packIngress(obj); err != nil || !reflect.DeepEqual(again, obj) {
			t.Errorf("packIngress(%T) = %T, %v; want it unchanged", obj, again, err)
		}
	}
}

// TestAdmissionDecodesOnce: the checks of one admission (host ownership,
// route limits, conflicts) each ask for the Ingresses of a host; over a
// packed cache they get one decoded copy of each, not one per question.
func TestAdmissionDecodesOnce(t *testing.T) {
	ix := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{
		hostIndex: ingressIndex(convert.VirtualServiceHosts),
		tlsIndex:  ingressIndex(convert.TLSHosts),
	})
	packed, err := packIngress(helmIngress())
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(packed); err != nil {
		t.Fatal(err)
	}
	const host = "web.example.com"
	c := &Informers{ingresses: ix, opts: Options{Packed: true}}
	a := c.Admission()
	first := a.HostIngresses(host)
	if len(first) != 1 || first[0].Name != "web" {
		t.Fatalf("HostIngresses(%s) = %v, want team-a/web", host, first)
	}
	for what, again := range map[string][]*networkingv1.Ingress{
		"HostIngresses again": a.HostIngresses(host),
		"TLSIngresses":        a.TLSIngresses(host),
	} {
		if len(again) != 1 || again[0] != first[0] {
			t.Errorf("%s decoded team-a/web again within one admission", what)
		}
	}
	// Over a typed cache, the view answers the cached Ingress itself.
	in := helmIngress()
	typed := &Informers{ingresses: toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{
		hostIndex: ingressIndex(convert.VirtualServiceHosts),
	})}
	if err := typed.ingresses.Add(in); err != nil {
		t.Fatal(err)
	}
	if got := typed.Admission().HostIngresses(host); len(got) != 1 || got[0] != in {
		t.Errorf("HostIngresses(%s) over a typed cache = %v, want the cached Ingress itself", host, got)
	}
}

// BenchmarkPackedLookup is what a packed cache adds to an admission per
// Ingress it reads, against a typed cache: one decoding.
func BenchmarkPackedLookup(b *testing.B) {
	packed, err := packIngress(helmIngress())
	if err != nil {
		b.Fatal(err)
	}
	p := packed.(*packedIngress)
	b.ReportAllocs()
	b.ReportMetric(float64(len(p.raw)), "packed-bytes")
	for b.Loop() {
		if _, err := p.ingress(); err != nil {
			b.Fatal(err)
		}
	}
}
