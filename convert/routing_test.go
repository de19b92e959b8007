package convert_test

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// firstMatch is a small model of the ingress gateway: it picks the
// VirtualService for the request's host the way Envoy picks a virtual host
// (exact name, then the longest wildcard suffix, then "*"), then returns the
// destination of the first route whose match accepts the request.
func firstMatch(vss []*istionet.VirtualService, host, path string) string {
	var best *istionet.VirtualService
	bestScore := -1
	for _, vs := range vss {
		for _, h := range vs.Spec.Hosts {
			score := -1
			switch {
			case h == host:
				score = 1 << 20
			case h == "*":
				score = 0
			case strings.HasPrefix(h, "*") && strings.HasSuffix(host, h[1:]):
				score = len(h)
			}
			if score > bestScore {
				best, bestScore = vs, score
			}
		}
	}
	if best == nil {
		return ""
	}
	for _, r := range best.Spec.Http {
		for _, m := range r.Match {
			if stringMatch(m.Uri, path) && (m.Authority == nil || stringMatch(m.Authority, host)) {
				d := r.Route[0].Destination
				return fmt.Sprintf("%s:%d", d.Host, d.Port.Number)
			}
		}
	}
	return ""
}

func stringMatch(m *istioapi.StringMatch, s string) bool {
	switch t := m.MatchType.(type) {
	case *istioapi.StringMatch_Exact:
		return s == t.Exact
	case *istioapi.StringMatch_Prefix:
		return strings.HasPrefix(s, t.Prefix)
	case *istioapi.StringMatch_Regex:
		return regexp.MustCompile(t.Regex).MatchString(s)
	}
	return false
}

// kubernetesMatch is the Kubernetes rule, written directly from the
// Ingress documentation rather than from the converter: among the paths that
// match, the longest wins, Exact beats Prefix, then the older Ingress, then
// the first path. Prefix matching is element by element.
func kubernetesMatch(ings []*networkingv1.Ingress, host, path string) string {
	type cand struct {
		length int
		exact  bool
		dest   string
	}
	var best *cand
	for _, ing := range ings { // ings are given oldest first
		for _, rule := range ing.Spec.Rules {
			if rule.Host != host {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				exact, value := kindOf(p)
				var ok bool
				if exact {
					ok = path == value
				} else {
					ok = elementPrefix(value, path)
				}
				if !ok {
					continue
				}
				c := cand{length: len(strings.TrimRight(value, "/")), exact: exact,
					dest: fmt.Sprintf("%s.%s.svc.cluster.local:%d", p.Backend.Service.Name, ing.Namespace, p.Backend.Service.Port.Number)}
				if best == nil || c.length > best.length || (c.length == best.length && c.exact && !best.exact) {
					best = &c
				}
			}
		}
	}
	if best == nil {
		return ""
	}
	return best.dest
}

// kindOf applies the pathType table of SPEC section 2.
func kindOf(p networkingv1.HTTPIngressPath) (exact bool, value string) {
	pt := networkingv1.PathTypeImplementationSpecific
	if p.PathType != nil {
		pt = *p.PathType
	}
	switch pt {
	case networkingv1.PathTypeExact:
		return true, p.Path
	case networkingv1.PathTypePrefix:
		return false, p.Path
	}
	switch {
	case p.Path == "" || p.Path == "*" || p.Path == ".*" || p.Path == "/*":
		return false, "/"
	case strings.HasSuffix(p.Path, "/*"), strings.HasSuffix(p.Path, ".*"):
		return false, p.Path[:len(p.Path)-2]
	}
	return true, p.Path
}

func elementPrefix(prefix, path string) bool {
	want := strings.Split(strings.Trim(prefix, "/"), "/")
	if want[0] == "" {
		return true
	}
	got := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(got) < len(want) {
		return false
	}
	for i := range want {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

var segments = []string{"a", "b", "ab", "status"}

func randomPath(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString("/" + segments[r.IntN(len(segments))])
	}
	return b.String()
}

// randomIngresses makes 1 to 3 Ingresses on one host with random paths,
// path types and legacy suffixes, each path to its own backend.
func randomIngresses(r *rand.Rand, host string) []*networkingv1.Ingress {
	types := []*networkingv1.PathType{nil, ptr(networkingv1.PathTypeExact), ptr(networkingv1.PathTypePrefix), ptr(networkingv1.PathTypeImplementationSpecific)}
	var ings []*networkingv1.Ingress
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1 + r.IntN(3) {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("ing%d", i), Namespace: fmt.Sprintf("ns%d", r.IntN(2)),
			Annotations:       map[string]string{convert.ClassAnnotation: "istio"},
			CreationTimestamp: metav1.NewTime(base.Add(time.Duration(i) * time.Minute)),
		}}
		var paths []networkingv1.HTTPIngressPath
		for j := range 1 + r.IntN(4) {
			pt := types[r.IntN(len(types))]
			p := randomPath(r)
			switch r.IntN(4) {
			case 0:
				p += "/"
			case 1:
				if pt == nil || *pt == networkingv1.PathTypeImplementationSpecific {
					p += []string{"/*", ".*"}[r.IntN(2)]
				}
			}
			if p == "" && (pt != nil && *pt != networkingv1.PathTypeImplementationSpecific) {
				p = "/"
			}
			paths = append(paths, networkingv1.HTTPIngressPath{Path: p, PathType: pt, Backend: backend(fmt.Sprintf("svc%d-%d", i, j), 80)})
		}
		ing.Spec.Rules = []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}}
		ings = append(ings, ing)
	}
	return ings
}

func randomRequest(r *rand.Rand) string {
	p := randomPath(r)
	if p == "" || r.IntN(4) == 0 {
		p += "/"
	}
	if r.IntN(8) == 0 {
		p += "x"
	}
	return p
}

func checkRouting(t *testing.T, r *rand.Rand) {
	t.Helper()
	host := "example.com"
	ings := randomIngresses(r, host)
	res := convert.DefaultSettings().Convert(convert.Snapshot{Ingresses: ings})
	if res.HasErrors() {
		t.Fatalf("generated Ingresses should be valid: %+v", res.Reports)
	}
	for range 20 {
		req := randomRequest(r)
		got, want := firstMatch(res.VirtualServices, host, req), kubernetesMatch(ings, host, req)
		if got != want {
			var desc []string
			for _, ing := range ings {
				for _, p := range ing.Spec.Rules[0].HTTP.Paths {
					pt := "unset"
					if p.PathType != nil {
						pt = string(*p.PathType)
					}
					desc = append(desc, fmt.Sprintf("%s %q %s -> %s", ing.Name, p.Path, pt, p.Backend.Service.Name))
				}
			}
			t.Fatalf("request %q: gateway routes to %q, Kubernetes says %q\npaths:\n  %s", req, got, want, strings.Join(desc, "\n  "))
		}
	}
}

// TestRoutingMatchesKubernetes compares, over many random path sets, the
// first-match routing of the generated VirtualServices with the Kubernetes
// rule "longest match wins, Exact beats Prefix, element-wise prefix".
func TestRoutingMatchesKubernetes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		checkRouting(t, r)
	}
}

// FuzzRouting explores more path sets from fuzzer-chosen seeds.
func FuzzRouting(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Fuzz(func(t *testing.T, a, b uint64) { checkRouting(t, rand.New(rand.NewPCG(a, b))) })
}

func TestSeedRouting(t *testing.T) {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "ingress", Namespace: "default", Annotations: map[string]string{convert.ClassAnnotation: "istio"}},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "httpbin.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: "/status", PathType: ptr(networkingv1.PathTypePrefix), Backend: backend("httpbin", 8000)},
			}}}}}},
	}
	res := convert.DefaultSettings().Convert(convert.Snapshot{Ingresses: []*networkingv1.Ingress{ing}})
	for _, tc := range []struct{ host, path, want string }{
		{"httpbin.example.com", "/status/200", "httpbin.default.svc.cluster.local:8000"},
		{"httpbin.example.com", "/status", "httpbin.default.svc.cluster.local:8000"},
		{"httpbin.example.com", "/headers", ""},
		{"httpbin.example.com", "/statusx", ""},
		{"other.example.com", "/status/200", ""},
	} {
		if got := firstMatch(res.VirtualServices, tc.host, tc.path); got != tc.want {
			t.Errorf("%s%s routes to %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func backend(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: port}}}
}
