package convert_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	securityapi "istio.io/api/security/v1beta1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// routeOwner answers which Ingress ("namespace/name") serves a request
// path on the VirtualService, as Envoy does: the first route whose uri
// matches, exactly or by prefix. "" for none.
func routeOwner(vs *istionet.VirtualService, path string) string {
	for _, r := range vs.Spec.Http {
		for _, m := range r.Match {
			if u := m.Uri; u.GetExact() != "" && u.GetExact() == path || u.GetPrefix() != "" && strings.HasPrefix(path, u.GetPrefix()) {
				parts := strings.SplitN(r.Name, "/", 3)
				return parts[0] + "/" + parts[1]
			}
		}
	}
	return ""
}

// policyPathMatches is Istio's AuthorizationPolicy path match: "*" any,
// "x*" a prefix, "*x" a suffix, else exact.
func policyPathMatches(pattern, path string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(path, strings.TrimSuffix(pattern, "*"))
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(path, strings.TrimPrefix(pattern, "*"))
	}
	return pattern == path
}

func anyMatches(patterns []string, s string, match func(p, s string) bool) bool {
	for _, p := range patterns {
		if match(p, s) {
			return true
		}
	}
	return false
}

func inBlocks(blocks []string, ip netip.Addr) bool {
	for _, b := range blocks {
		if netip.MustParsePrefix(b).Contains(ip) {
			return true
		}
	}
	return false
}

// sniMatches is Istio's connection.sni match: "*" is any name but none.
func sniMatches(pattern, sni string) bool {
	if pattern == "*" {
		return sni != ""
	}
	return policyPathMatches(pattern, sni)
}

// denied evaluates a DENY AuthorizationPolicy for a request, as Istio's
// RBAC filter does for the fields the generator uses. sni is the TLS
// server name ("" over plain HTTP). tcp is the evaluation on a TCP filter
// chain (a passthrough server), where Istio drops the HTTP-only fields
// (hosts, paths) of a DENY rule.
func denied(ap *istiosec.AuthorizationPolicy, host, path, sni string, ip netip.Addr, tcp bool) bool {
	if ap == nil {
		return false
	}
	for _, r := range ap.Spec.Rules {
		from := len(r.From) == 0 || anyFrom(r.From, ip)
		to := len(r.To) == 0 || tcp
		for _, t := range r.To {
			op := t.Operation
			if (len(op.Hosts) == 0 || anyMatches(op.Hosts, host, policyPathMatches)) &&
				(len(op.Paths) == 0 || anyMatches(op.Paths, path, policyPathMatches)) &&
				!anyMatches(op.NotPaths, path, policyPathMatches) {
				to = true
			}
		}
		when := true
		for _, c := range r.When {
			if c.Key != "connection.sni" {
				panic("unexpected condition " + c.Key)
			}
			if len(c.Values) > 0 && !anyMatches(c.Values, sni, sniMatches) || anyMatches(c.NotValues, sni, sniMatches) {
				when = false
			}
		}
		if from && to && when {
			return true
		}
	}
	return false
}

func anyFrom(froms []*securityapi.Rule_From, ip netip.Addr) bool {
	for _, f := range froms {
		src := f.Source
		if (len(src.RemoteIpBlocks) == 0 || inBlocks(src.RemoteIpBlocks, ip)) &&
			(len(src.NotRemoteIpBlocks) == 0 || !inBlocks(src.NotRemoteIpBlocks, ip)) {
			return true
		}
	}
	return false
}

// wantDenied is what ingress-nginx does: the Ingress that serves the path
// refuses the client when its allow-list does not hold the address, or its
// deny-list does.
func wantDenied(ing *networkingv1.Ingress, ip netip.Addr) bool {
	if ing == nil {
		return false
	}
	blocks := func(key string) ([]string, bool) {
		v, ok := ing.Annotations[convert.NginxPrefix+key]
		if !ok {
			return nil, false
		}
		var out []string
		for _, p := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(p))
		}
		return out, true
	}
	if deny, ok := blocks("denylist-source-range"); ok && inBlocks(deny, ip) {
		return true
	}
	allow, ok := blocks("whitelist-source-range")
	return ok && !inBlocks(allow, ip)
}

// TestAuthorizationPolicyCoversExactlyItsRoutes generates random Ingresses
// on one host, some with source ranges, and checks for every request path
// and client address that the generated AuthorizationPolicy denies exactly
// what the Ingress serving that path (by the VirtualService's first match)
// would, over HTTP and HTTPS: a restricted path of one Ingress never
// restricts another Ingress's path, however their paths nest, nor a
// passthrough connection to another host of the gateway.
func TestAuthorizationPolicyCoversExactlyItsRoutes(t *testing.T) {
	const host = "app.example.com"
	paths := []string{"/", "/a", "/a/b", "/a/b/c", "/ab", "/b", "/a/"}
	requests := []string{"/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/cd", "/a/bc", "/ab", "/ab/x", "/b", "/b/x", "/c"}
	clients := []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("198.51.100.4")}
	restrictions := []map[string]string{
		nil,
		{"whitelist-source-range": "10.0.0.0/8"},
		{"whitelist-source-range": "10.0.0.0/8,192.0.2.0/24"},
		{"denylist-source-range": "192.0.2.0/24"},
		{"whitelist-source-range": "10.0.0.0/8,198.51.100.0/24", "denylist-source-range": "198.51.100.4/32"},
	}
	r := rand.New(rand.NewPCG(15, 15))
	class := "istio"
	for trial := range 300 {
		var ings []*networkingv1.Ingress
		for i := range 2 + r.IntN(3) {
			ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("ing%d", i), Namespace: "ns",
				CreationTimestamp: metav1.NewTime(time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC)),
				Annotations:       map[string]string{},
			}}
			for k, v := range restrictions[r.IntN(len(restrictions))] {
				ing.Annotations[convert.NginxPrefix+k] = v
			}
			ing.Spec.IngressClassName = &class
			rule := networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
			for j := range 1 + r.IntN(3) {
				pt := networkingv1.PathTypePrefix
				if r.IntN(3) == 0 {
					pt = networkingv1.PathTypeExact
				}
				rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{
					Path: paths[r.IntN(len(paths))], PathType: &pt,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: fmt.Sprintf("svc%d-%d", i, j), Port: networkingv1.ServiceBackendPort{Number: 80}}},
				})
			}
			ing.Spec.Rules = []networkingv1.IngressRule{rule}
			ings = append(ings, ing)
		}
		istio := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: convert.ControllerName}}
		res := convert.DefaultSettings().Convert(convert.Snapshot{Ingresses: ings, IngressClasses: []*networkingv1.IngressClass{istio}})
		if len(res.VirtualServices) != 1 {
			t.Fatalf("trial %d: %d VirtualServices", trial, len(res.VirtualServices))
		}
		var ap *istiosec.AuthorizationPolicy
		if len(res.AuthorizationPolicies) > 0 {
			ap = res.AuthorizationPolicies[0]
		}
		for _, path := range requests {
			owner := routeOwner(res.VirtualServices[0], path)
			var served *networkingv1.Ingress
			for _, ing := range ings {
				if "ns/"+ing.Name == owner {
					served = ing
				}
			}
			for _, ip := range clients {
				for _, req := range []struct{ authority, sni string }{{host, ""}, {host + ":8080", ""}, {host, host}} {
					if got, want := denied(ap, req.authority, path, req.sni, ip, false), wantDenied(served, ip); got != want {
						t.Fatalf("trial %d: %s%s (SNI %q) from %s served by %q: denied %v, want %v\nIngresses: %v\npolicy: %v", trial, req.authority, path, req.sni, ip, owner, got, want, describeIngresses(ings), ap)
					}
				}
				if denied(ap, "", "", "vault.example.com", ip, true) {
					t.Fatalf("trial %d: a passthrough connection to another host from %s is denied by %v", trial, ip, ap)
				}
			}
		}
	}
}

func describeIngresses(ings []*networkingv1.Ingress) string {
	var b strings.Builder
	for _, ing := range ings {
		fmt.Fprintf(&b, "\n  %s %v:", ing.Name, ing.Annotations)
		for _, p := range ing.Spec.Rules[0].HTTP.Paths {
			fmt.Fprintf(&b, " %s %s", *p.PathType, p.Path)
		}
	}
	return b.String()
}
