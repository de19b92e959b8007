package e2e_test

import (
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/test/envtest"
)

// waitForClasses waits until the validating configuration's match
// condition names the Istio classes istio (a CEL list, such as
// `["istio"]`).
func waitForClasses(t *testing.T, h *harness, istio string) {
	t.Helper()
	envtest.Until(t, "the match condition to name the Istio classes "+istio, func() bool {
		var cfg admissionregistrationv1.ValidatingWebhookConfiguration
		if err := h.env.Client.Get(t.Context(), client.ObjectKey{Name: "ingressguard"}, &cfg); err != nil {
			return false
		}
		for _, c := range cfg.Webhooks[0].MatchConditions {
			if strings.Contains(c.Expression, "ingressClassName in "+istio) {
				return true
			}
		}
		return false
	})
}

// TestOutageBlocksOnlyIngressesThatCanBeOurs: while ingressguard is down
// (the webhooks fail closed), exactly the writes README's "What an outage
// blocks" lists are refused, and every other Ingress is admitted without
// being sent: the match conditions follow the IngressClasses.
func TestOutageBlocksOnlyIngressesThatCanBeOurs(t *testing.T) {
	h := start(t)
	for _, class := range []string{
		"apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: istio\nspec:\n  controller: istio.io/ingress-controller\n",
		"apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: nginx\nspec:\n  controller: k8s.io/ingress-nginx\n",
	} {
		if _, errOut, ok := h.kubectl(t, class, "apply", "-f", "-"); !ok {
			t.Fatal(errOut)
		}
	}
	waitForClasses(t, h, `["istio"]`)
	h.stop()

	classless := strings.Replace(manifest{Name: "classless", ClassName: "x", PathType: "Prefix"}.String(), "  ingressClassName: x\n", "", 1)
	if strings.Contains(classless, "ingressClass") {
		t.Fatalf("the class-less manifest has a class:\n%s", classless)
	}
	for _, tc := range []struct {
		name     string
		manifest string
		blocked  bool
	}{
		{"class annotation of ours", manifest{Name: "annotated", Class: "istio", PathType: "Prefix"}.String(), true},
		{"ingressClassName of an Istio class", manifest{Name: "by-class", ClassName: "istio", PathType: "Prefix"}.String(), true},
		{"no class at all (the default class decides)", classless, true},
		{"class annotation of another controller", manifest{Name: "other-annotation", Class: "nginx", PathType: "Prefix"}.String(), false},
		{"ingressClassName of another controller's class", manifest{Name: "other-class", ClassName: "nginx", PathType: "Prefix"}.String(), false},
		{"ingressClassName of no IngressClass (not ours in STRICT mode)", manifest{Name: "no-such-class", ClassName: "missing", PathType: "Prefix"}.String(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, ok := h.kubectl(t, tc.manifest, "apply", "-f", "-")
			switch {
			case tc.blocked && ok:
				t.Errorf("created while ingressguard is down; want it refused")
			case tc.blocked && !strings.Contains(errOut, "failed calling webhook"):
				t.Errorf("refused, but not for the webhook being down:\n%s", errOut)
			case !tc.blocked && !ok:
				t.Errorf("refused while ingressguard is down; want it admitted unsent:\n%s\n%s", errOut, tc.manifest)
			}
		})
	}
}
