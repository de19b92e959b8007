package convert_test

import (
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

// TestOurs covers each row of SPEC section 1 in both modes.
func TestOurs(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	istioClass := class("istio", convert.ControllerName, false, t0)
	renamed := class("mesh-edge", convert.ControllerName, false, t0)
	nginx := class("nginx", "k8s.io/ingress-nginx", false, t0)
	istioDefault := class("istio", convert.ControllerName, true, t0)
	nginxDefault := class("nginx", "k8s.io/ingress-nginx", true, t0)
	newerIstioDefault := class("mesh-edge", convert.ControllerName, true, t0.Add(time.Hour))

	annotated := func(v string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{convert.ClassAnnotation: v}}}
	}
	named := func(n string) *networkingv1.Ingress {
		return &networkingv1.Ingress{Spec: networkingv1.IngressSpec{IngressClassName: &n}}
	}
	both := named("nginx")
	both.Annotations = map[string]string{convert.ClassAnnotation: "istio"}
	none := &networkingv1.Ingress{}

	for _, tc := range []struct {
		name               string
		ing                *networkingv1.Ingress
		classes            []*networkingv1.IngressClass
		strict, defaultMod bool
	}{
		{"annotation istio", annotated("istio"), nil, true, true},
		{"annotation nginx", annotated("nginx"), []*networkingv1.IngressClass{istioDefault}, false, false},
		{"annotation empty", annotated(""), []*networkingv1.IngressClass{istioDefault}, false, false},
		{"annotation wins over ingressClassName", both, []*networkingv1.IngressClass{nginx}, true, true},
		{"class with istio controller", named("istio"), []*networkingv1.IngressClass{istioClass}, true, true},
		{"class name does not matter, controller does", named("mesh-edge"), []*networkingv1.IngressClass{renamed}, true, true},
		{"class of another controller", named("nginx"), []*networkingv1.IngressClass{nginx, istioDefault}, false, false},
		{"class that does not exist", named("missing"), []*networkingv1.IngressClass{istioDefault}, false, true},
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
