package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/controller"
	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// TestIntruderNeverDisplacesOwner: an Ingress of team-b for team-a's host,
// with an Exact /login and a certificate, created while no webhook stops
// it (these tests run without one), is left out of the host's objects:
// the VirtualService keeps team-a's routes only, even after team-a's
// Ingress changes; no Gateway serves team-b's certificate for the host;
// and team-b's Ingress gets a Warning event that names none of team-a's
// objects. team-b's own host is served, but not with a Secret declared for
// team-a only. Once team-a shares the host, team-b's routes and
// certificate serve it.
func TestIntruderNeverDisplacesOwner(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "team-a", "team-b")
	for name, allowed := range map[string]string{"a-tls": "team-a", "b-tls": "team-b"} {
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: name, Annotations: map[string]string{convert.AnnotationAllowedNamespaces: allowed}},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: []byte("cert"), corev1.TLSPrivateKeyKey: []byte("key")},
		}
		if err := env.Client.Create(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	owner := ingress("team-a", "shop", time.Time{}, "a.example.com", path{path: "/", pathType: "Prefix", service: "shop", port: 80})
	if err := env.Client.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the owner's routes", wantRoutes(env, "a.example.com", "/*->shop:80"))

	intruder := ingress("team-b", "login", time.Time{}, "a.example.com", path{path: "/login", pathType: "Exact", service: "phish", port: 80})
	intruder.Spec.Rules = append(intruder.Spec.Rules, networkingv1.IngressRule{Host: "b.example.com", IngressRuleValue: intruder.Spec.Rules[0].IngressRuleValue})
	intruder.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}, SecretName: "b-tls"}, {Hosts: []string{"b.example.com"}, SecretName: "a-tls"}}
	if err := env.Client.Create(ctx, intruder); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the intruder's own host served", wantRoutes(env, "b.example.com", "=/login->phish:80"))
	envtest.Eventually(t, "a Warning event on the intruder", func() error {
		notes, err := warningEvents(env, "team-b", "login", controller.ReasonError)
		if err != nil {
			return err
		}
		// One Warning event per refusal is recorded; the events API keeps
		// them as one series on the Ingress, with one of their notes.
		if !slices.ContainsFunc(notes, func(n string) bool {
			return strings.Contains(n, "is already served by an Ingress in another namespace") || strings.Contains(n, "is not for this namespace")
		}) {
			return fmt.Errorf("no event says that team-b may not serve these: %q", notes)
		}
		for _, n := range notes {
			if strings.Contains(n, "team-a") || strings.Contains(n, "shop") {
				return fmt.Errorf("an event names the owner's objects: %s", n)
			}
		}
		return nil
	})
	// A change of the owner's Ingress, after the cache has the intruder
	// (its own host is served), rebuilds the host's objects from both.
	owner.Spec.Rules[0].HTTP.Paths = append(owner.Spec.Rules[0].HTTP.Paths, owner.Spec.Rules[0].HTTP.Paths[0])
	owner.Spec.Rules[0].HTTP.Paths[1].Path = "/cart"
	if err := env.Client.Update(ctx, owner); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the owner's routes only", wantRoutes(env, "a.example.com", "=/cart,/cart/*->shop:80 /*->shop:80"))
	envtest.Eventually(t, "made from the owner's Ingress only", sources(env, "a.example.com", "team-a/shop"))
	for _, host := range []string{"a.example.com", "b.example.com"} {
		if got := credentials(t, env, host); len(got) > 0 {
			t.Errorf("the Gateway of %s serves certificates %v, which are not its namespace's to serve", host, got)
		}
	}

	// Once team-a shares the host with team-b, team-b's routes and
	// certificate serve it too; a-tls is still team-a's only.
	owner.Annotations = map[string]string{convert.AnnotationShareHostWith: "team-b"}
	if err := env.Client.Update(ctx, owner); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the shared host's routes", wantRoutes(env, "a.example.com", "=/login->phish:80 =/cart,/cart/*->shop:80 /*->shop:80"))
	envtest.Eventually(t, "the shared host's certificate", func() error {
		if got := credentials(t, env, "a.example.com"); !slices.Equal(got, []string{"b-tls"}) {
			return fmt.Errorf("the Gateway of a.example.com serves %v, want [b-tls]", got)
		}
		return nil
	})
	if got := credentials(t, env, "b.example.com"); len(got) > 0 {
		t.Errorf("the Gateway of b.example.com serves %v, which is team-a's only", got)
	}
}

// credentials lists the certificates the Gateway of host serves.
func credentials(t *testing.T, env *envtest.Env, host string) []string {
	t.Helper()
	gw, err := gateway(env, host)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range gw.Spec.Servers {
		if s.Tls != nil {
			out = append(out, s.Tls.CredentialName)
		}
	}
	return out
}
