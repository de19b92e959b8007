package install_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// certificates runs cert-manager's issuance controllers and its cainjector
// against the installation, checks that they issue the serving certificate
// and inject its CA into both webhook configurations, and returns the
// serving Secret. The test stops if they do not.
func (in *installation) certificates(t *testing.T) *corev1.Secret {
	in.alsoForLoopback(t)
	runCertManager(t, in.env)
	var secret *corev1.Secret
	if !t.Run("cert-manager issues the serving certificate", func(t *testing.T) { secret = in.checkIssued(t) }) {
		t.FailNow()
	}
	runCAInjector(t, in.env)
	if !t.Run("cainjector injects the CA into both webhook configurations", func(t *testing.T) { in.checkInjected(t, secret) }) {
		t.FailNow()
	}
	t.Run("kubectl apply -k again keeps the injected CA", func(t *testing.T) { in.checkReapplied(t, secret) })
	return secret
}

// readAccess is what both jobs read, through the same lookups, and what
// neither may do.
var readAccess = []access{
	{"list ingresses.networking.k8s.io -A", true},
	{"watch ingresses.networking.k8s.io -A", true},
	{"list ingressclasses.networking.k8s.io", true},
	{"watch ingressclasses.networking.k8s.io", true},
	{"list services -A", true},
	{"watch services -A", true},
	{"list secrets -n istio-system", true},
	{"watch secrets -n istio-system", true},
	{"list certificates.cert-manager.io -n istio-system", true},
	{"watch certificates.cert-manager.io -n istio-system", true},

	// Secrets only in the gateway namespace, and never one by name.
	{"list secrets -A", false},
	{"watch secrets -A", false},
	{"list secrets -n default", false},
	{"list secrets -n ingressguard-system", false},
	{"get secrets -n istio-system", false},
	{"get secrets/ingressguard-webhook-tls -n ingressguard-system", false},
	{"create secrets -n istio-system", false},
	{"update secrets -n istio-system", false},
	{"delete secrets -n istio-system", false},
	{"list certificates.cert-manager.io -A", false},
	{"create certificates.cert-manager.io -n istio-system", false},
	// No webhook configuration but ingressguard's own, and none listed or
	// deleted.
	{"patch validatingwebhookconfigurations.admissionregistration.k8s.io/other", false},
	{"delete validatingwebhookconfigurations.admissionregistration.k8s.io/ingressguard", false},
	{"list validatingwebhookconfigurations.admissionregistration.k8s.io", false},
	// Ingresses are read, never changed.
	{"create ingresses.networking.k8s.io -n default", false},
	{"update ingresses.networking.k8s.io -n default", false},
	{"patch ingresses.networking.k8s.io -n default", false},
	{"delete ingresses.networking.k8s.io -n default", false},
	{"delete ingressclasses.networking.k8s.io/istio", false},
	{"update services -n default", false},
	// Nothing unrelated.
	{"create virtualservices.networking.istio.io -n default", false},
	{"create gateways.networking.istio.io -n default", false},
	{"create destinationrules.networking.istio.io -n default", false},
	{"create authorizationpolicies.security.istio.io -n default", false},
	{"list authorizationpolicies.security.istio.io -A", false},
	{"create peerauthentications.security.istio.io -n istio-system", false},
	{"create envoyfilters.networking.istio.io -n istio-system", false},
	{"list gateways.networking.istio.io -A", false},
	{"list configmaps -A", false},
	{"create pods -n ingressguard-system", false},
	{"create events -n default", false},
	{"get nodes", false},
	{"* *", false},
}

// webhookAccess is what the webhook job may do besides readAccess: the
// match conditions of its own webhook configurations, and no write of the
// controller's.
var webhookAccess = append(slices.Clone(readAccess),
	access{"patch validatingwebhookconfigurations.admissionregistration.k8s.io/ingressguard", true},
	access{"patch mutatingwebhookconfigurations.admissionregistration.k8s.io/ingressguard", true},
	access{"patch ingresses.networking.k8s.io --subresource=status -n default", false},
	access{"create events.events.k8s.io -n default", false},
	access{"create gateways.networking.istio.io -n istio-system", false},
	access{"create virtualservices.networking.istio.io -n istio-system", false},
	access{"create destinationrules.networking.istio.io -n istio-system", false},
	access{"create authorizationpolicies.security.istio.io -n istio-system", false},
	access{"get gateways.networking.istio.io -n istio-system", false},
	access{"list configmaps -n istio-system", false},
	access{"create leases.coordination.k8s.io -n ingressguard-system", false},
	access{"get leases.coordination.k8s.io/ingressguard-leader -n ingressguard-system", false},
	access{"create events -n ingressguard-system", false},
)

// webhookRules is every rule of the webhook job's ServiceAccount, by
// namespace.
func webhookRules() map[string][]string {
	cluster := rules(
		"list,watch ingresses.networking.k8s.io",
		"list,watch ingressclasses.networking.k8s.io",
		"list,watch services",
		"get,patch mutatingwebhookconfigurations.admissionregistration.k8s.io/ingressguard",
		"get,patch validatingwebhookconfigurations.admissionregistration.k8s.io/ingressguard",
	)
	return map[string][]string{
		"default":             cluster,
		"ingressguard-system": cluster,
		"istio-system": append(rules(
			"list,watch secrets",
			"list,watch certificates.cert-manager.io",
		), cluster...),
	}
}

// checkWebhook checks the webhook Deployment of an installation: Pod
// Security, its RBAC and nothing more, and, run under its ServiceAccount,
// that the API server calls its webhooks through cert-manager's CA.
func (in *installation) checkWebhook(t *testing.T, secret *corev1.Secret) {
	w := in.webhook
	t.Run("webhook pods meet Pod Security restricted", w.checkPodSecurity)
	t.Run("webhook RBAC", func(t *testing.T) { w.checkCanI(t, webhookAccess) })
	t.Run("webhook: nothing else is granted", func(t *testing.T) { w.checkRules(t, webhookRules()) })
	s := w.serve(t, secret)
	if !s.opts.webhook || s.opts.reconcile || s.opts.leaderElect {
		t.Fatalf("manifests/%s runs the webhook Deployment with %+v; want the webhooks alone, without leader election", in.overlay, s.opts)
	}
	t.Run("the API server calls the webhooks, trusting the injected CA", in.checkAdmission)
}

// TestDefault installs manifests/default, which README tells admins to
// apply, and runs both of its Deployments under their ServiceAccounts.
func TestDefault(t *testing.T) {
	in := install(t, overlayDefault)
	if in.controller == nil {
		t.Fatalf("manifests/default renders no Deployment %s", controllerDeployment)
	}
	c := in.controller
	t.Run("controller pods meet Pod Security restricted", c.checkPodSecurity)

	t.Run("controller RBAC", func(t *testing.T) {
		c.checkCanI(t, append(slices.Clone(readAccess),
			// The webhook configurations are the webhook job's.
			access{"patch validatingwebhookconfigurations.admissionregistration.k8s.io/ingressguard", false},
			access{"patch mutatingwebhookconfigurations.admissionregistration.k8s.io/ingressguard", false},
			// Ingress status and events on Ingresses, in any namespace.
			access{"patch ingresses.networking.k8s.io --subresource=status -n default", true},
			access{"update ingresses.networking.k8s.io --subresource=status -n default", false},
			access{"create events.events.k8s.io -n default", true},
			access{"patch events.events.k8s.io -n default", true},
			access{"delete events.events.k8s.io -n default", false},
			// Generated objects in the gateway namespace only.
			access{"get gateways.networking.istio.io -n istio-system", true},
			access{"list gateways.networking.istio.io -n istio-system", true},
			access{"watch gateways.networking.istio.io -n istio-system", true},
			access{"create gateways.networking.istio.io -n istio-system", true},
			access{"update gateways.networking.istio.io -n istio-system", true},
			access{"delete gateways.networking.istio.io -n istio-system", true},
			access{"patch gateways.networking.istio.io -n istio-system", true},
			access{"deletecollection gateways.networking.istio.io -n istio-system", false},
			access{"get virtualservices.networking.istio.io -n istio-system", true},
			access{"list virtualservices.networking.istio.io -n istio-system", true},
			access{"watch virtualservices.networking.istio.io -n istio-system", true},
			access{"create virtualservices.networking.istio.io -n istio-system", true},
			access{"update virtualservices.networking.istio.io -n istio-system", true},
			access{"delete virtualservices.networking.istio.io -n istio-system", true},
			access{"patch virtualservices.networking.istio.io -n istio-system", true},
			access{"update virtualservices.networking.istio.io -n default", false},
			access{"get destinationrules.networking.istio.io -n istio-system", true},
			access{"list destinationrules.networking.istio.io -n istio-system", true},
			access{"watch destinationrules.networking.istio.io -n istio-system", true},
			access{"create destinationrules.networking.istio.io -n istio-system", true},
			access{"update destinationrules.networking.istio.io -n istio-system", true},
			access{"delete destinationrules.networking.istio.io -n istio-system", true},
			access{"patch destinationrules.networking.istio.io -n istio-system", true},
			access{"get authorizationpolicies.security.istio.io -n istio-system", true},
			access{"list authorizationpolicies.security.istio.io -n istio-system", true},
			access{"watch authorizationpolicies.security.istio.io -n istio-system", true},
			access{"create authorizationpolicies.security.istio.io -n istio-system", true},
			access{"update authorizationpolicies.security.istio.io -n istio-system", true},
			access{"delete authorizationpolicies.security.istio.io -n istio-system", true},
			access{"patch authorizationpolicies.security.istio.io -n istio-system", true},
			access{"deletecollection authorizationpolicies.security.istio.io -n istio-system", false},
			access{"update destinationrules.networking.istio.io -n default", false},
			access{"delete authorizationpolicies.security.istio.io -n default", false},
			access{"delete gateways.networking.istio.io -n default", false},
			// The mesh config, read from the cache of the gateway namespace.
			access{"list configmaps -n istio-system", true},
			access{"watch configmaps -n istio-system", true},
			access{"get configmaps -n istio-system", false},
			access{"update configmaps -n istio-system", false},
			access{"list configmaps -n default", false},
			// Its own Lease, and the event recorded on it.
			access{"create leases.coordination.k8s.io -n ingressguard-system", true},
			access{"get leases.coordination.k8s.io/ingressguard-leader -n ingressguard-system", true},
			access{"update leases.coordination.k8s.io/ingressguard-leader -n ingressguard-system", true},
			access{"update leases.coordination.k8s.io/other -n ingressguard-system", false},
			access{"delete leases.coordination.k8s.io/ingressguard-leader -n ingressguard-system", false},
			access{"create leases.coordination.k8s.io -n default", false},
			access{"create events -n ingressguard-system", true},
			access{"patch events -n ingressguard-system", true},
		))
	})

	cluster := rules(
		"list,watch ingresses.networking.k8s.io",
		"list,watch ingressclasses.networking.k8s.io",
		"list,watch services",
		"patch ingresses/status.networking.k8s.io",
		"create,patch events.events.k8s.io",
	)
	t.Run("controller: nothing else is granted", func(t *testing.T) {
		c.checkRules(t, map[string][]string{
			"default": cluster,
			"istio-system": append(rules(
				"list,watch secrets",
				"list,watch certificates.cert-manager.io",
				"get,list,watch,create,update,patch,delete gateways.networking.istio.io",
				"get,list,watch,create,update,patch,delete virtualservices.networking.istio.io",
				"get,list,watch,create,update,patch,delete destinationrules.networking.istio.io",
				"get,list,watch,create,update,patch,delete authorizationpolicies.security.istio.io",
				"list,watch configmaps",
			), cluster...),
			"ingressguard-system": append(rules(
				"create leases.coordination.k8s.io",
				"get,update leases.coordination.k8s.io/ingressguard-leader",
				"create,patch events",
			), cluster...),
		})
	})

	secret := in.certificates(t)
	in.checkWebhook(t, secret)

	s := c.serve(t, nil)
	if s.opts.webhook || !s.opts.reconcile || !s.opts.leaderElect || s.opts.leaderElectionNamespace != "ingressguard-system" {
		t.Fatalf("manifests/default runs the controller Deployment with %+v; want the reconcilers alone, leader-elected in ingressguard-system", s.opts)
	}
	t.Run("the reconcilers write with the controller ServiceAccount's permissions", func(t *testing.T) { in.checkReconciled(t, s) })
}

// TestWebhookOnly installs manifests/webhook-only, which must hold the
// webhook Deployment and nothing of the controller's: no Deployment, no
// ServiceAccount, no write permission but to the match conditions of its
// own webhook configurations. It runs the webhooks under their
// ServiceAccount.
func TestWebhookOnly(t *testing.T) {
	in := install(t, overlayWebhookOnly)
	for _, o := range in.r.objects {
		if strings.Contains(o.GetName(), "controller") || strings.Contains(o.GetName(), "reconcile") || strings.Contains(o.GetName(), "leader") {
			t.Errorf("manifests/webhook-only renders %s %s, which only the controller uses", o.GetKind(), o.GetName())
		}
	}
	in.checkWebhook(t, in.certificates(t))
}
