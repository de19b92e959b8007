package convert_test

import (
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ingressguard/ingressguard/convert"
)

func class(name, controller string, isDefault bool, created time.Time) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
	if isDefault {
		c.Annotations = map[string]string{convert.DefaultClassAnnotation: "true"}
	}
	return c
}

// classAnnotated is an Ingress of class v by the kubernetes.io/ingress.class annotation.
func classAnnotated(v string) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{convert.ClassAnnotation: v}}}
}

// classNamed is an Ingress of class n by spec.ingressClassName.
func classNamed(n string) *networkingv1.Ingress {
	return &networkingv1.Ingress{Spec: networkingv1.IngressSpec{IngressClassName: &n}}
}

// TestOurs covers each row of SPEC section 1 in both modes.
func TestOurs(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	istioClass := class("istio", convert.ControllerName, false, t0)
	renamed := class("mesh-edge", convert.ControllerName, false, t0)
	nginx := class("nginx", "k8s.io/ingress-nginx", false, t0)
	istioDefault := class("istio", convert.ControllerName, true, t0)
	nginxDefault := class("nginx", "k8s.io/ingress-nginx", true, t0)
	newerIstioDefault := class("mesh-edge", convert.ControllerName, true, t0.Add(time.Hour))
	both := classNamed("nginx")
	both.Annotations = map[string]string{convert.ClassAnnotation: "istio"}
	none := &networkingv1.Ingress{}

	for _, tc := range []struct {
		name               string
		ing                *networkingv1.Ingress
		classes            []*networkingv1.IngressClass
		strict, defaultMod bool
	}{
		{"annotation istio", classAnnotated("istio"), nil, true, true},
		{"annotation nginx", classAnnotated("nginx"), []*networkingv1.IngressClass{istioDefault}, false, false},
		{"annotation empty", classAnnotated(""), []*networkingv1.IngressClass{istioDefault}, false, false},
		{"annotation wins over ingressClassName", both, []*networkingv1.IngressClass{nginx}, true, true},
		{"class with istio controller", classNamed("istio"), []*networkingv1.IngressClass{istioClass}, true, true},
		{"class name does not matter, controller does", classNamed("mesh-edge"), []*networkingv1.IngressClass{renamed}, true, true},
		{"class of another controller", classNamed("nginx"), []*networkingv1.IngressClass{nginx, istioDefault}, false, false},
		{"class that does not exist", classNamed("missing"), []*networkingv1.IngressClass{istioDefault}, false, true},
		{"no class, istio default class", none, []*networkingv1.IngressClass{istioDefault}, true, true},
		{"no class, default class of another controller", none, []*networkingv1.IngressClass{nginxDefault}, false, false},
		{"no class, newest default wins", none, []*networkingv1.IngressClass{nginxDefault, newerIstioDefault}, true, true},
		{"no class, no default", none, []*networkingv1.IngressClass{istioClass}, false, true},
	} {
		ix := convert.NewIndex(convert.Snapshot{IngressClasses: tc.classes})
		for _, mode := range []struct {
			mode convert.Mode
			want bool
		}{{convert.ModeStrict, tc.strict}, {convert.ModeDefault, tc.defaultMod}} {
			s := convert.DefaultSettings()
			s.Mode = mode.mode
			if got := s.Ours(tc.ing, ix); got != mode.want {
				t.Errorf("%s, mode %s: Ours = %v, want %v", tc.name, mode.mode, got, mode.want)
			}
		}
	}
}

// TestAsClass: AsClasses makes the Ingresses of another controller's
// class ours, by class name or by controller, and no others.
func TestAsClass(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nginx := class("nginx", "k8s.io/ingress-nginx", false, t0)
	internal := class("nginx-internal", "k8s.io/ingress-nginx", false, t0)
	traefik := class("traefik", "traefik.io/ingress-controller", false, t0)
	nginxDefault := class("nginx", "k8s.io/ingress-nginx", true, t0)
	istioClass := class("istio", convert.ControllerName, false, t0)
	all := []*networkingv1.IngressClass{nginx, internal, traefik, istioClass}
	// The annotation decides, as it does for Istio: ingress-nginx serves
	// this one, not Traefik.
	both := classNamed("traefik")
	both.Annotations = map[string]string{convert.ClassAnnotation: "nginx"}

	for _, tc := range []struct {
		name      string
		ing       *networkingv1.Ingress
		classes   []*networkingv1.IngressClass
		asClasses []string
		class     string // AsClass's name; "" when not treated
		ours      bool
	}{
		{"annotation", classAnnotated("nginx"), all, []string{"nginx"}, "nginx", true},
		{"annotation of a class that does not exist", classAnnotated("nginx"), nil, []string{"nginx"}, "nginx", true},
		{"ingressClassName", classNamed("nginx"), all, []string{"nginx"}, "nginx", true},
		{"ingressClassName of a class that does not exist", classNamed("nginx"), nil, []string{"nginx"}, "nginx", true},
		{"annotation wins over ingressClassName", both, all, []string{"nginx"}, "nginx", true},
		{"annotation wins, the other class is not treated", both, all, []string{"traefik"}, "", false},
		{"one of a comma list", classNamed("traefik"), all, []string{"nginx", "traefik"}, "traefik", true},
		{"another class", classNamed("traefik"), all, []string{"nginx"}, "", false},
		{"controller matches every class of it", classNamed("nginx-internal"), all, []string{"k8s.io/ingress-nginx"}, "nginx-internal", true},
		{"controller, by the annotation's class", classAnnotated("nginx"), all, []string{"k8s.io/ingress-nginx"}, "nginx", true},
		{"controller of another class", classNamed("traefik"), all, []string{"k8s.io/ingress-nginx"}, "", false},
		{"no class, the default class is treated", &networkingv1.Ingress{}, []*networkingv1.IngressClass{nginxDefault}, []string{"nginx"}, "nginx", true},
		{"no class, no default", &networkingv1.Ingress{}, all, []string{"nginx"}, "", false},
		{"no AsClasses: as before", classNamed("nginx"), all, nil, "", false},
		{"Istio's own class stays ours", classNamed("istio"), all, []string{"nginx"}, "", true},
	} {
		ix := convert.NewIndex(convert.Snapshot{IngressClasses: tc.classes})
		s := convert.DefaultSettings()
		s.AsClasses = tc.asClasses
		if name, ok := s.AsClass(tc.ing, ix); name != tc.class || ok != (tc.class != "") {
			t.Errorf("%s: AsClass = %q, %v; want %q", tc.name, name, ok, tc.class)
		}
		if got := s.Ours(tc.ing, ix); got != tc.ours {
			t.Errorf("%s: Ours = %v, want %v", tc.name, got, tc.ours)
		}
		if got, _ := s.WhyOurs(tc.ing, ix); got != tc.ours {
			t.Errorf("%s: WhyOurs = %v, want %v", tc.name, got, tc.ours)
		}
	}
}

// TestAsClassConvert: an Ingress of a class treated as Istio's is checked
// with the Istio ones, and its route for a host and path that an Istio
// Ingress already routes gets the conflict warning.
func TestAsClassConvert(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prefix := networkingv1.PathTypePrefix
	ingress := func(name, class string, created time.Time) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, CreationTimestamp: metav1.NewTime(created)},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				Host: "shop.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &prefix,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}}},
		}
	}
	snap := convert.Snapshot{
		Ingresses: []*networkingv1.Ingress{ingress("storefront", "istio", t0), ingress("legacy", "nginx", t0.Add(time.Hour))},
		IngressClasses: []*networkingv1.IngressClass{
			class("istio", convert.ControllerName, false, t0), class("nginx", "k8s.io/ingress-nginx", false, t0),
		},
	}
	for _, tc := range []struct {
		name      string
		asClasses []string
		reports   int
		ignored   int
		warning   string // of shop/legacy
	}{
		{name: "without AsClasses, ignored", reports: 1, ignored: 1},
		{name: "with AsClasses, checked", asClasses: []string{"nginx"}, reports: 2,
			warning: `spec.rules[0].http.paths[0]: host "shop.example.com", pathType: Prefix with path: / is already routed to storefront.shop.svc.cluster.local:80 by Ingress shop/storefront`},
	} {
		s := convert.DefaultSettings()
		s.AsClasses = tc.asClasses
		res := s.Convert(snap)
		if len(res.Reports) != tc.reports || len(res.Ignored) != tc.ignored {
			t.Errorf("%s: %d reports and %d ignored, want %d and %d", tc.name, len(res.Reports), len(res.Ignored), tc.reports, tc.ignored)
			continue
		}
		if tc.warning == "" {
			continue
		}
		var got []string
		for _, r := range res.Reports {
			if r.Ingress.Name == "legacy" {
				for _, w := range r.Warnings {
					got = append(got, w.String())
				}
			}
		}
		if len(got) != 1 || !strings.HasPrefix(got[0], tc.warning) {
			t.Errorf("%s: warnings of shop/legacy %q, want one starting with %q", tc.name, got, tc.warning)
		}
	}
}

// TestNames checks that generated names are valid DNS-1123 labels for any
// input and never collide for different inputs.
func TestNames(t *testing.T) {
	long := ""
	for range 30 {
		long += "segment."
	}
	hosts := []string{"", "*", "a.b.com", "a-b.com", "A.B.COM", "*.example.com", "wildcard.example.com", long + "example.com", long + "example.org", "xn--bcher-kva.example"}
	seen := map[string]string{}
	for _, h := range hosts {
		n := convert.ObjectName(h)
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			t.Errorf("ObjectName(%q) = %q: %v", h, n, errs)
		}
		if prev, ok := seen[n]; ok && prev != h && !(prev == "" && h == "*" || prev == "*" && h == "") {
			t.Errorf("hosts %q and %q share the name %q", prev, h, n)
		}
		seen[n] = h
	}
	if convert.ObjectName("") != convert.ObjectName("*") {
		t.Errorf("a rule without host and the host \"*\" must share one Gateway and VirtualService")
	}
}
