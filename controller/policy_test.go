package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/controller"
	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

func destinationRule(env *envtest.Env, service string) (*istionet.DestinationRule, error) {
	dr := &istionet.DestinationRule{}
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: gwNS, Name: convert.DestinationRuleName(service)}, dr)
	return dr, err
}

func authorizationPolicy(env *envtest.Env, host string) (*istiosec.AuthorizationPolicy, error) {
	ap := &istiosec.AuthorizationPolicy{}
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: gwNS, Name: convert.ObjectName(host)}, ap)
	return ap, err
}

// setAnnotation sets (value != "") or removes an annotation of the
// Ingress namespace/name.
func setAnnotation(t *testing.T, env *envtest.Env, ns, name, key, value string) {
	t.Helper()
	envtest.Eventually(t, "annotation "+key+" updated", func() error {
		ing := ingress(ns, name, time.Time{}, "")
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ing); err != nil {
			return err
		}
		if value == "" {
			delete(ing.Annotations, key)
		} else {
			if ing.Annotations == nil {
				ing.Annotations = map[string]string{}
			}
			ing.Annotations[key] = value
		}
		return env.Client.Update(context.Background(), ing)
	})
}

// TestDestinationRuleLifecycle: backend-protocol HTTPS gives the backend
// Service a DestinationRule with TLS origination, visible to the gateway's
// namespace only; a hand edit is reverted; removing the annotation, and
// deleting the Ingress, remove the rule.
func TestDestinationRuleLifecycle(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "pay")
	const svc = "checkout.pay.svc.cluster.local"
	const protocol = convert.NginxPrefix + "backend-protocol"
	ing := ingress("pay", "checkout", time.Time{}, "pay.example.com", path{path: "/", pathType: "Prefix", service: "checkout", port: 8443})
	ing.Annotations = map[string]string{protocol: "HTTPS"}
	if err := env.Client.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	originates := func() error {
		dr, err := destinationRule(env, svc)
		if err != nil {
			return err
		}
		pls := dr.Spec.GetTrafficPolicy().GetPortLevelSettings()
		if dr.Spec.Host != svc || len(dr.Spec.ExportTo) != 1 || dr.Spec.ExportTo[0] != "." || len(pls) != 1 ||
			pls[0].GetPort().GetNumber() != 8443 || pls[0].GetTls().GetMode() != istioapi.ClientTLSSettings_SIMPLE {
			return fmt.Errorf("DestinationRule spec %v", dr.Spec.String())
		}
		if dr.Labels[convert.LabelManagedBy] != convert.ManagedBy || dr.Annotations[convert.AnnotationIngresses] != "pay/checkout" {
			return fmt.Errorf("DestinationRule metadata %v %v", dr.Labels, dr.Annotations)
		}
		return nil
	}
	envtest.Eventually(t, "DestinationRule with TLS origination", originates)
	envtest.Eventually(t, "routes", wantRoutes(env, "pay.example.com", "/*->checkout:8443"))

	dr, err := destinationRule(env, svc)
	if err != nil {
		t.Fatal(err)
	}
	dr.Spec.TrafficPolicy.PortLevelSettings[0].Tls.Mode = istioapi.ClientTLSSettings_DISABLE
	dr.Spec.ExportTo = []string{"*"}
	if err := env.Client.Update(ctx, dr); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "hand edit reverted", originates)

	setAnnotation(t, env, "pay", "checkout", protocol, "")
	envtest.Eventually(t, "DestinationRule removed with the annotation", gone(func() error { _, err := destinationRule(env, svc); return err }))
	setAnnotation(t, env, "pay", "checkout", protocol, "HTTPS")
	envtest.Eventually(t, "DestinationRule back with the annotation", originates)
	if err := env.Client.Delete(ctx, ing); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "DestinationRule removed with the Ingress", gone(func() error { _, err := destinationRule(env, svc); return err }))
}

// TestDestinationRuleConflictReported: two Ingresses admitted without the
// webhook ask for other connection settings of one Service port; the
// older one's settings are written, and the younger one gets a Warning
// event that says so, the older none.
func TestDestinationRuleConflictReported(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	createNamespace(t, env, "pay")
	const protocol = convert.NginxPrefix + "backend-protocol"
	older := ingress("pay", "a-older", time.Time{}, "a.example.com", path{path: "/", pathType: "Prefix", service: "checkout", port: 8443})
	older.Annotations = map[string]string{protocol: "HTTPS"}
	younger := ingress("pay", "b-younger", time.Time{}, "b.example.com", path{path: "/", pathType: "Prefix", service: "checkout", port: 8443})
	younger.Annotations = map[string]string{convert.NginxPrefix + "load-balance": "round_robin"}
	createAll(t, env, older)
	createAll(t, env, younger) // in the same second, the name decides the age
	envtest.Eventually(t, "the older Ingress's settings written", func() error {
		dr, err := destinationRule(env, "checkout.pay.svc.cluster.local")
		if err != nil {
			return err
		}
		if pls := dr.Spec.GetTrafficPolicy().GetPortLevelSettings(); len(pls) != 1 || pls[0].GetTls().GetMode() != istioapi.ClientTLSSettings_SIMPLE {
			return fmt.Errorf("DestinationRule spec %v", dr.Spec.String())
		}
		return nil
	})
	envtest.Eventually(t, "conflict reported on the younger Ingress", hasWarning(env, "pay", "b-younger", controller.ReasonWarning, "from the older Ingress pay/a-older, which wins"))
	if notes, err := warningEvents(env, "pay", "a-older", controller.ReasonWarning); err != nil || len(notes) > 0 {
		t.Errorf("Warning events on the older Ingress: %q, %v", notes, err)
	}
	// Once the younger one no longer asks, the conflict is forgotten: when
	// it asks again, it is told again (the second occurrence of the event).
	const balance = convert.NginxPrefix + "load-balance"
	setAnnotation(t, env, "pay", "b-younger", balance, "")
	envtest.Eventually(t, "the DestinationRule without the younger Ingress", func() error {
		dr, err := destinationRule(env, "checkout.pay.svc.cluster.local")
		if err != nil {
			return err
		}
		if got := dr.Annotations[convert.AnnotationIngresses]; got != "pay/a-older" {
			return fmt.Errorf("made from %q", got)
		}
		return nil
	})
	setAnnotation(t, env, "pay", "b-younger", balance, "round_robin")
	envtest.Eventually(t, "the conflict told again", occurrences(env, younger, controller.ReasonWarning, 2))
}

// TestAuthorizationPolicyLifecycle: whitelist-source-range gives the host
// a DENY AuthorizationPolicy on the gateway workload for the Ingress's
// paths; a hand edit is reverted; removing the annotation removes the
// policy and keeps the routes; deleting the Ingress removes everything. A
// same-named policy that is not ours is left alone, and the routes it
// should have restricted are not served.
func TestAuthorizationPolicyLifecycle(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	createNamespace(t, env, "ops")
	const host = "ops.example.com"
	const ranges = convert.NginxPrefix + "whitelist-source-range"
	ing := ingress("ops", "console", time.Time{}, host, path{path: "/console", pathType: "Prefix", service: "console", port: 80})
	ing.Annotations = map[string]string{ranges: "10.0.0.0/8"}
	if err := env.Client.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	restricts := func() error {
		ap, err := authorizationPolicy(env, host)
		if err != nil {
			return err
		}
		rules := ap.Spec.Rules
		if ap.Spec.Action.String() != "DENY" || ap.Spec.GetSelector().GetMatchLabels()["istio"] != "ingressgateway" || len(rules) != 2 {
			return fmt.Errorf("AuthorizationPolicy spec %v", ap.Spec.String())
		}
		for _, r := range rules { // one for plain HTTP, one for HTTPS
			if fmt.Sprint(r.From[0].Source.NotRemoteIpBlocks) != "[10.0.0.0/8]" ||
				fmt.Sprint(r.To[0].Operation.Paths) != "[/console /console/*]" ||
				fmt.Sprint(r.To[0].Operation.Hosts) != "[ops.example.com ops.example.com:*]" {
				return fmt.Errorf("AuthorizationPolicy rule %v", r.String())
			}
		}
		if ap.Labels[convert.LabelManagedBy] != convert.ManagedBy {
			return fmt.Errorf("AuthorizationPolicy labels %v", ap.Labels)
		}
		return nil
	}
	envtest.Eventually(t, "AuthorizationPolicy", restricts)
	envtest.Eventually(t, "routes", wantRoutes(env, host, "=/console,/console/*->console:80"))

	ap, err := authorizationPolicy(env, host)
	if err != nil {
		t.Fatal(err)
	}
	ap.Spec.Rules[0].From[0].Source.NotRemoteIpBlocks = []string{"0.0.0.0/0"}
	if err := env.Client.Update(ctx, ap); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "hand edit reverted", restricts)

	setAnnotation(t, env, "ops", "console", ranges, "")
	envtest.Eventually(t, "AuthorizationPolicy removed with the annotation", gone(func() error { _, err := authorizationPolicy(env, host); return err }))
	envtest.Eventually(t, "routes kept", wantRoutes(env, host, "=/console,/console/*->console:80"))
	setAnnotation(t, env, "ops", "console", ranges, "10.0.0.0/8")
	envtest.Eventually(t, "AuthorizationPolicy back with the annotation", restricts)
	if err := env.Client.Delete(ctx, ing); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "AuthorizationPolicy removed with the Ingress", gone(func() error { _, err := authorizationPolicy(env, host); return err }))
	envtest.Eventually(t, "VirtualService removed with the Ingress", gone(func() error { _, err := virtualService(env, host); return err }))

	// A policy of that name that is not ours: left alone, and the
	// restricted routes are not served rather than served open.
	const taken = "taken.example.com"
	theirs := &istiosec.AuthorizationPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: convert.ObjectName(taken)}}
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	open := ingress("ops", "open", time.Time{}, taken, path{path: "/", pathType: "Prefix", service: "web", port: 80})
	if err := env.Client.Create(ctx, open); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "unrestricted host served", wantRoutes(env, taken, "/*->web:80"))
	private := ingress("ops", "private", time.Time{}, taken, path{path: "/admin", pathType: "Prefix", service: "admin", port: 80})
	private.Annotations = map[string]string{ranges: "10.0.0.0/8"}
	if err := env.Client.Create(ctx, private); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "collision reported", hasWarning(env, "ops", "private", "NameCollision", ""))
	envtest.Eventually(t, "host not served while its policy cannot be written", gone(func() error { _, err := virtualService(env, taken); return err }))
	got, err := authorizationPolicy(env, taken)
	if err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != theirs.ResourceVersion {
		t.Errorf("the unlabelled AuthorizationPolicy was modified: %v", got.Spec.String())
	}
}
