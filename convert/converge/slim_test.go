package converge

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// fromAPI is obj as the cache decodes it from the API server's JSON.
func fromAPI[T any](t *testing.T, obj any) *T {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSlimGenerated: the cached copy of a generated object has no spec but
// its digest; it is owned exactly when the live object is; the transform
// can be applied again without changing it; a digest annotation on the
// live object is not believed.
func TestSlimGenerated(t *testing.T) {
	gw, vs := generated(t)
	liveGW, liveVS := fromAPI[istionet.Gateway](t, gw), fromAPI[istionet.VirtualService](t, vs)
	liveGW.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "ingressguard", Operation: metav1.ManagedFieldsOperationUpdate}}
	slimGW, _ := slimGenerated(liveGW)
	slimVS, _ := slimGenerated(liveVS)
	cgw, cvs := slimGW.(*istionet.Gateway), slimVS.(*istionet.VirtualService)
	if len(cgw.Spec.Servers) != 0 || len(cvs.Spec.Http) != 0 || len(cvs.Spec.Hosts) != 0 {
		t.Errorf("cached copies keep their spec: %v / %v", &cgw.Spec, &cvs.Spec)
	}
	if !ownedCached(cgw, gw) || !ownedCached(cvs, vs) {
		t.Errorf("cached copies of converged objects are not owned")
	}
	again, _ := slimGenerated(cgw)
	if again != slimGW || cgw.Annotations[digestKey] != digestOf(gw.Labels, gw.Annotations, &gw.Spec) {
		t.Errorf("a second transform changed the cached copy")
	}
	if cgw.Annotations[convert.AnnotationIngress] != "shop/web" || cvs.Annotations[convert.AnnotationHost] != "shop.example.com" ||
		cgw.Labels[convert.LabelManagedBy] != convert.ManagedBy || cvs.Labels[convert.LabelManagedBy] != convert.ManagedBy {
		t.Errorf("cached copies lost what the watches and removals read: %v %v / %v %v", cgw.Labels, cgw.Annotations, cvs.Labels, cvs.Annotations)
	}

	// Metadata others add is neither cached nor a difference.
	foreign := fromAPI[istionet.VirtualService](t, vs)
	foreign.Labels["team"] = "shop"
	foreign.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = strings.Repeat("x", 4096)
	slim, _ := slimGenerated(foreign)
	if c := slim.(*istionet.VirtualService); !ownedCached(c, vs) || len(c.Labels)+len(c.Annotations) != 3 {
		t.Errorf("foreign metadata: owned = %v, cached labels %v and annotations %v", ownedCached(c, vs), c.Labels, c.Annotations)
	}

	edited := fromAPI[istionet.VirtualService](t, vs)
	edited.Spec.Http[0].Route[0].Destination.Host = "elsewhere.shop.svc.cluster.local"
	slim, _ = slimGenerated(edited)
	if ownedCached(slim.(*istionet.VirtualService), vs) {
		t.Errorf("a hand-edited spec counts as owned")
	}

	forged := fromAPI[istionet.VirtualService](t, vs)
	forged.Spec.Http = nil
	forged.Annotations[digestKey] = digestOf(vs.Labels, vs.Annotations, &vs.Spec)
	slim, _ = slimGenerated(forged)
	if ownedCached(slim.(*istionet.VirtualService), vs) {
		t.Errorf("an emptied spec with a copied digest annotation counts as owned")
	}

	relabelled := fromAPI[istionet.Gateway](t, gw)
	relabelled.Labels[convert.LabelIngressName] = "other"
	slim, _ = slimGenerated(relabelled)
	if ownedCached(slim.(*istionet.Gateway), gw) {
		t.Errorf("a changed label counts as owned")
	}

	reannotated := fromAPI[istionet.VirtualService](t, vs)
	reannotated.Annotations[convert.AnnotationIngresses] = "shop/other"
	slim, _ = slimGenerated(reannotated)
	if ownedCached(slim.(*istionet.VirtualService), vs) {
		t.Errorf("a changed annotation counts as owned")
	}
}

// TestOwnedKeys: the digest covers every label and annotation that convert
// sets; one it missed would let a hand edit of it stand.
func TestOwnedKeys(t *testing.T) {
	gw, vs := generated(t)
	for _, o := range []metav1.Object{gw, vs} {
		for k := range o.GetLabels() {
			if !slices.Contains(ownedLabelKeys, k) {
				t.Errorf("%s: label %s is not in ownedLabelKeys", o.GetName(), k)
			}
		}
		for k := range o.GetAnnotations() {
			if !slices.Contains(ownedAnnotationKeys, k) {
				t.Errorf("%s: annotation %s is not in ownedAnnotationKeys", o.GetName(), k)
			}
		}
	}
}
