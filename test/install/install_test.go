package install_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"github.com/spf13/pflag"
	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/server"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// installation is a control plane with one overlay of manifests/ applied.
type installation struct {
	env     *envtest.Env
	r       *rendering
	overlay string
	// webhook and controller are the rendered Deployments of the two jobs;
	// controller is nil in an overlay without one.
	webhook, controller *workload
	// logStart is where this installation's logs start in processLogs.
	logStart int
}

// The rendered Deployments of the two jobs of `ingressguard serve`.
const (
	webhookDeployment    = "ingressguard-webhook"
	controllerDeployment = "ingressguard-controller"
)

// workload is one rendered Deployment of an installation and the
// ServiceAccount it runs as.
type workload struct {
	*installation
	deployment appsv1.Deployment
	// user is the Deployment's ServiceAccount, as the API server names it.
	user string
}

var (
	logsOnce sync.Once
	logs     envtest.Logs
)

// processLogs returns the buffer that collects the logs of every component
// this test process runs (ingressguard, cert-manager, cainjector, the API
// clients), set up once: the loggers are process-wide, and components of an
// earlier test may still log while they stop.
func processLogs() *envtest.Logs {
	logsOnce.Do(func() {
		logger := zap.New(zap.UseDevMode(true), zap.WriteTo(&logs))
		ctrllog.SetLogger(logger)
		klog.SetLogger(logger.WithName("klog"))
	})
	return &logs
}

// logs returns what was logged since the installation started.
func (in *installation) logs() string {
	return processLogs().Since(in.logStart)
}

// install starts a control plane (kube-apiserver and etcd with the Istio and
// cert-manager CRDs and the istio-system namespace), renders the overlay and
// applies it as admins do, with server-side apply and strict validation, and
// checks that the API server holds every rendered object.
func install(t *testing.T, overlay string) *installation {
	in := &installation{overlay: overlay, logStart: processLogs().Len()}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of ingressguard, cert-manager and the API clients:\n%s", in.logs())
		}
	})

	env := envtest.StartT(t, envtest.Options{})
	in.env, in.r = env, render(t, env.KubectlPath, overlay)
	for _, o := range in.r.objects {
		if o.GetKind() != "Deployment" {
			continue
		}
		w := &workload{installation: in}
		into(t, o, &w.deployment)
		w.user = fmt.Sprintf("system:serviceaccount:%s:%s", w.deployment.Namespace, w.deployment.Spec.Template.Spec.ServiceAccountName)
		switch o.GetName() {
		case webhookDeployment:
			in.webhook = w
		case controllerDeployment:
			in.controller = w
		default:
			t.Fatalf("manifests/%s renders Deployment %s; want only %s and %s", overlay, o.GetName(), webhookDeployment, controllerDeployment)
		}
	}
	if in.webhook == nil {
		t.Fatalf("manifests/%s renders no Deployment %s", overlay, webhookDeployment)
	}

	out, errOut, err := env.Kubectl(t.Context(), in.r.yaml, "apply", "--server-side", "--validate=strict", "-f", "-")
	if err != nil {
		t.Fatalf("kubectl apply -k manifests/%s: %v", overlay, err)
	}
	if errOut != "" {
		t.Errorf("kubectl apply -k manifests/%s warned:\n%s", overlay, errOut)
	}
	if n := strings.Count(out, " serverside-applied"); n != len(in.r.objects) {
		t.Errorf("kubectl applied %d objects, the rendering has %d:\n%s", n, len(in.r.objects), out)
	}
	for _, want := range in.r.objects {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(want.GroupVersionKind())
		if err := env.Client.Get(t.Context(), client.ObjectKeyFromObject(want), got); err != nil {
			t.Errorf("%s %s was not stored: %v", want.GetKind(), want.GetName(), err)
		}
	}
	return in
}

// checkPodSecurity creates, as a server-side dry run, a Pod from the
// Deployment's template in its namespace: the namespace enforces
// Pod Security's "restricted" profile, so the API server admits it only if
// the pod is hardened as that profile demands. The same pod without its
// security contexts must be refused, which shows the profile is enforced.
func (in *workload) checkPodSecurity(t *testing.T) {
	tmpl := in.deployment.Spec.Template
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-security-check", Namespace: in.deployment.Namespace, Labels: tmpl.Labels},
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	if err := in.env.Client.Create(t.Context(), pod.DeepCopy(), client.DryRunAll); err != nil {
		t.Errorf("the API server refuses the Deployment's pod: %v", err)
	}
	bare := pod.DeepCopy()
	bare.Spec.SecurityContext = nil
	for i := range bare.Spec.Containers {
		bare.Spec.Containers[i].SecurityContext = nil
	}
	err := in.env.Client.Create(t.Context(), bare, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Errorf("a pod without security contexts in namespace %s: want a PodSecurity refusal, got %v", in.deployment.Namespace, err)
	}
}

// access is one question for `kubectl auth can-i`, as its arguments, and
// the answer the API server must give for the ServiceAccount.
type access struct {
	args    string
	allowed bool
}

// checkCanI asks the API server, with `kubectl auth can-i --as`, each
// question of want about the rendered ServiceAccount.
func (in *workload) checkCanI(t *testing.T, want []access) {
	for _, a := range want {
		t.Run(a.args, func(t *testing.T) {
			args := append([]string{"auth", "can-i", "--as=" + in.user}, strings.Fields(a.args)...)
			out, errOut, _ := in.env.Kubectl(t.Context(), "", args...)
			answer := strings.TrimSpace(out)
			if answer != "yes" && answer != "no" {
				t.Fatalf("kubectl auth can-i %s answered %q: %s", a.args, answer, errOut)
			}
			if got := answer == "yes"; got != a.allowed {
				t.Errorf("kubectl auth can-i %s --as=%s: %s, want allowed=%v", a.args, in.user, answer, a.allowed)
			}
		})
	}
}

// checkRules asks the API server for every resource rule the ServiceAccount
// has in each namespace (a SelfSubjectRulesReview made as the
// ServiceAccount, what `kubectl auth can-i --list` shows) and compares them,
// one "verb resource.group[/name]" per line, with want: nothing more may be
// granted than the code uses. Rules that a ServiceAccount without any
// binding of its own has too (self-reviews, discovery, whatever the
// cluster grants every ServiceAccount) are left out.
func (in *workload) checkRules(t *testing.T, want map[string][]string) {
	ns := in.deployment.Namespace
	baseline := in.impersonating("system:serviceaccount:" + ns + ":rbac-baseline")
	for namespace, rules := range want {
		t.Run(namespace, func(t *testing.T) {
			common := map[string]bool{}
			for _, r := range rulesOf(t, baseline, namespace) {
				common[r] = true
			}
			var got []string
			for _, r := range rulesOf(t, in.asServiceAccount(), namespace) {
				if !common[r] {
					got = append(got, r)
				}
			}
			want := slices.Sorted(slices.Values(rules))
			if !slices.Equal(got, want) {
				t.Errorf("%s's rules in namespace %s:\n%s\nwant:\n%s", in.user, namespace, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// rulesOf returns, sorted, the resource rules that cfg's user has in
// namespace, one "verb resource.group[/name]" each.
func rulesOf(t *testing.T, cfg *rest.Config, namespace string) []string {
	c, err := client.New(cfg, client.Options{})
	must(t, err, "creating a client as %s", cfg.Impersonate.UserName)
	review := &authorizationv1.SelfSubjectRulesReview{}
	review.Spec.Namespace = namespace
	must(t, c.Create(t.Context(), review), "reviewing the rules of %s in %s", cfg.Impersonate.UserName, namespace)
	if review.Status.Incomplete {
		t.Fatalf("the API server's rules of %s in %s are incomplete: %s", cfg.Impersonate.UserName, namespace, review.Status.EvaluationError)
	}
	var out []string
	for _, r := range review.Status.ResourceRules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					for _, n := range names {
						out = append(out, rule(v, res, g, n))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rule formats one granted verb as checkRules compares them.
func rule(verb, resource, group, name string) string {
	s := verb + " " + resource
	if group != "" {
		s += "." + group
	}
	if name != "" {
		s += "/" + name
	}
	return s
}

// rules expands "verb1,verb2 resource.group" into one rule per verb.
func rules(specs ...string) []string {
	var out []string
	for _, s := range specs {
		verbs, resource, _ := strings.Cut(s, " ")
		for _, v := range strings.Split(verbs, ",") {
			out = append(out, v+" "+resource)
		}
	}
	return out
}

// asServiceAccount returns a rest.Config that acts as the rendered
// ServiceAccount, as its token would: the API server authorizes every
// request of that config against the ServiceAccount's RBAC.
func (in *workload) asServiceAccount() *rest.Config {
	return in.impersonating(in.user)
}

// impersonating returns a rest.Config that acts as the ServiceAccount user
// of the Deployment's namespace, with the groups its token would carry.
func (in *workload) impersonating(user string) *rest.Config {
	cfg := rest.CopyConfig(in.env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: user,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + in.deployment.Namespace, "system:authenticated"},
	}
	return cfg
}

// servingCertificate is the rendered Certificate that the webhook
// configurations take their CA from.
func (in *installation) servingCertificate(t *testing.T) *cmv1.Certificate {
	m := in.r.only(t, "MutatingWebhookConfiguration")
	ns, name, ok := strings.Cut(m.GetAnnotations()[cmv1.WantInjectAnnotation], "/")
	if !ok {
		t.Fatalf("the MutatingWebhookConfiguration has no %s annotation", cmv1.WantInjectAnnotation)
	}
	var cert cmv1.Certificate
	into(t, in.r.find(t, "Certificate", name), &cert)
	if cert.Namespace != ns {
		t.Fatalf("%s names namespace %s, the Certificate is in %s", cmv1.WantInjectAnnotation, ns, cert.Namespace)
	}
	return &cert
}

// checkIssued waits until cert-manager has issued the serving Certificate
// and checks what it wrote: a Secret with the key, a certificate for the
// webhook Service's DNS names, and the CA that signed it.
func (in *installation) checkIssued(t *testing.T) *corev1.Secret {
	cert := in.servingCertificate(t)
	ctx := t.Context()
	envtest.Until(t, "cert-manager to issue Certificate "+cert.Name, func() bool {
		var live cmv1.Certificate
		if err := in.env.Client.Get(ctx, client.ObjectKeyFromObject(cert), &live); err != nil {
			return false
		}
		for _, c := range live.Status.Conditions {
			if c.Type == cmv1.CertificateConditionReady && c.Status == cmmeta.ConditionTrue {
				return true
			}
		}
		return false
	})
	secret := &corev1.Secret{}
	must(t, in.env.Client.Get(ctx, client.ObjectKey{Namespace: cert.Namespace, Name: cert.Spec.SecretName}, secret),
		"reading Secret %s/%s", cert.Namespace, cert.Spec.SecretName)
	if got := secret.Annotations[cmv1.CertificateNameKey]; got != cert.Name {
		t.Errorf("Secret %s: annotation %s = %q, want %q", secret.Name, cmv1.CertificateNameKey, got, cert.Name)
	}
	for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey, cmmeta.TLSCAKey} {
		if len(secret.Data[k]) == 0 {
			t.Fatalf("Secret %s has no %s", secret.Name, k)
		}
	}
	leaf := parseCertificate(t, secret.Data[corev1.TLSCertKey])
	ca := parseCertificate(t, secret.Data[cmmeta.TLSCAKey])
	if !ca.IsCA || bytes.Equal(ca.Raw, leaf.Raw) {
		t.Errorf("ca.crt is not a CA distinct from the serving certificate")
	}
	var svc corev1.Service
	into(t, in.r.only(t, "Service"), &svc)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, dns := range []string{svc.Name + "." + svc.Namespace + ".svc", svc.Name + "." + svc.Namespace + ".svc.cluster.local"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: dns, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("the serving certificate does not verify for %s against ca.crt: %v", dns, err)
		}
	}
	return secret
}

func parseCertificate(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	must(t, err, "parsing a certificate")
	return c
}

// checkInjected waits until cainjector has put the Secret's ca.crt into the
// caBundle of both webhook configurations.
func (in *installation) checkInjected(t *testing.T, secret *corev1.Secret) {
	ca := secret.Data[cmmeta.TLSCAKey]
	m := in.r.only(t, "MutatingWebhookConfiguration").GetName()
	v := in.r.only(t, "ValidatingWebhookConfiguration").GetName()
	envtest.Until(t, "cainjector to inject the CA into MutatingWebhookConfiguration "+m, func() bool {
		var c admissionregistrationv1.MutatingWebhookConfiguration
		return in.env.Client.Get(t.Context(), client.ObjectKey{Name: m}, &c) == nil &&
			len(c.Webhooks) == 1 && bytes.Equal(c.Webhooks[0].ClientConfig.CABundle, ca)
	})
	envtest.Until(t, "cainjector to inject the CA into ValidatingWebhookConfiguration "+v, func() bool {
		var c admissionregistrationv1.ValidatingWebhookConfiguration
		return in.env.Client.Get(t.Context(), client.ObjectKey{Name: v}, &c) == nil &&
			len(c.Webhooks) == 1 && bytes.Equal(c.Webhooks[0].ClientConfig.CABundle, ca)
	})
}

// envReference is a $(VAR) reference in container arguments.
var envReference = regexp.MustCompile(`\$\([A-Za-z_][A-Za-z0-9_]*\)`)

// checkReapplied applies the overlay again the way README tells admins to
// install and upgrade (`kubectl apply -k`, client-side) and checks that it
// is accepted and leaves the webhooks as they were, caBundle included: their
// generation, which counts changes to the webhooks, must not move (a
// cleared caBundle that cainjector put back would move it twice).
func (in *installation) checkReapplied(t *testing.T, secret *corev1.Secret) {
	ctx := t.Context()
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	m.Name = in.r.only(t, "MutatingWebhookConfiguration").GetName()
	v.Name = in.r.only(t, "ValidatingWebhookConfiguration").GetName()
	generations := func() [2]int64 {
		must(t, in.env.Client.Get(ctx, client.ObjectKeyFromObject(m), m), "reading %s", m.Name)
		must(t, in.env.Client.Get(ctx, client.ObjectKeyFromObject(v), v), "reading %s", v.Name)
		return [2]int64{m.Generation, v.Generation}
	}
	before := generations()
	dir := filepath.Join(repoRoot(t), "manifests", in.overlay)
	if _, errOut, err := in.env.Kubectl(ctx, "", "apply", "-k", dir); err != nil {
		t.Fatalf("kubectl apply -k manifests/%s again: %v\n%s", in.overlay, err, errOut)
	}
	if after := generations(); after != before {
		t.Errorf("kubectl apply -k changed the webhook configurations (generations %v, then %v)", before, after)
	}
	in.checkInjected(t, secret)
}

// serveOptions are the options of `ingressguard serve` that the rendered
// Deployment's container arguments select.
type serveOptions struct {
	webhook                 bool
	reconcile               bool
	leaderElect             bool
	leaderElectionNamespace string
	webhookConfiguration    string
}

// containerOptions parses the rendered container's arguments (after
// "serve") with the flags of `ingressguard serve` that decide what the
// process does and which permissions it needs, expanding $(VAR) from the
// container's downward-API environment as the kubelet does.
func (in *workload) containerOptions(t *testing.T) serveOptions {
	c := in.deployment.Spec.Template.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("the container runs %q, want `serve ...`", c.Args)
	}
	vars := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace" {
			vars[e.Name] = in.deployment.Namespace
		}
	}
	var o serveOptions
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	fs.BoolVar(&o.webhook, "webhook", true, "")
	fs.BoolVar(&o.reconcile, "reconcile", true, "")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "")
	fs.StringVar(&o.webhookConfiguration, "webhook-configuration", "ingressguard", "")
	args := make([]string, len(c.Args)-1)
	for i, a := range c.Args[1:] {
		args[i] = envReference.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := vars[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	must(t, fs.Parse(args), "parsing the container's arguments %q", c.Args)
	return o
}

// serving is ingressguard's manager running in this process as the
// rendered ServiceAccount.
type serving struct {
	opts serveOptions
}

// alsoForLoopback adds 127.0.0.1 to the serving Certificate's addresses
// before cert-manager issues it. Here no kube-proxy routes the webhook
// Service, and tests may only send traffic to loopback addresses, which an
// EndpointSlice refuses; so serve points the webhook configurations at
// https://127.0.0.1 instead, and the API server checks the certificate
// against that address and the caBundle cainjector injected. The DNS names
// the Service needs are checked by checkIssued.
func (in *installation) alsoForLoopback(t *testing.T) {
	cert := in.servingCertificate(t)
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"ipAddresses":["127.0.0.1"]}}`))
	must(t, in.env.Client.Patch(t.Context(), cert, patch), "adding 127.0.0.1 to Certificate %s", cert.Name)
}

// serve runs `ingressguard serve` (server.New) in this process with the
// options the rendered Deployment selects, authenticated as its
// ServiceAccount, and waits until /readyz says it is ready: the manager's
// caches synced under that identity. When it serves the webhooks, it uses
// the serving certificate cert-manager issued (secret) and points both
// webhook configurations at it (https://127.0.0.1:PORT, see
// alsoForLoopback), keeping their injected caBundle.
func (in *workload) serve(t *testing.T, secret *corev1.Secret) *serving {
	ctx := t.Context()
	o := in.containerOptions(t)
	ip := "127.0.0.1"
	port := envtest.FreePort(t)
	var certDir string
	if o.webhook {
		certDir = t.TempDir()
		writeFile(t, certDir, corev1.TLSCertKey, secret.Data[corev1.TLSCertKey])
		writeFile(t, certDir, corev1.TLSPrivateKeyKey, secret.Data[corev1.TLSPrivateKeyKey])
		m := &admissionregistrationv1.MutatingWebhookConfiguration{}
		v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		m.Name = in.r.only(t, "MutatingWebhookConfiguration").GetName()
		v.Name = in.r.only(t, "ValidatingWebhookConfiguration").GetName()
		local := func(c *admissionregistrationv1.WebhookClientConfig) {
			url := fmt.Sprintf("https://%s:%d%s", ip, port, *c.Service.Path)
			c.URL, c.Service = &url, nil
		}
		must(t, in.env.Client.Get(ctx, client.ObjectKeyFromObject(m), m), "reading %s", m.Name)
		local(&m.Webhooks[0].ClientConfig)
		must(t, in.env.Client.Update(ctx, m), "pointing %s at the local webhook server", m.Name)
		must(t, in.env.Client.Get(ctx, client.ObjectKeyFromObject(v), v), "reading %s", v.Name)
		local(&v.Webhooks[0].ClientConfig)
		must(t, in.env.Client.Update(ctx, v), "pointing %s at the local webhook server", v.Name)
	}

	healthAddr := fmt.Sprintf("127.0.0.1:%d", envtest.FreePort(t))
	mgr, err := server.New(context.Background(), in.asServiceAccount(), server.Options{
		Settings:                convert.DefaultSettings(),
		Host:                    ip,
		Port:                    port,
		CertDir:                 certDir,
		MetricsAddr:             "0",
		HealthAddr:              healthAddr,
		Webhook:                 o.webhook,
		Reconcile:               o.reconcile,
		LeaderElection:          o.leaderElect,
		LeaderElectionNamespace: o.leaderElectionNamespace,
		WebhookConfiguration:    o.webhookConfiguration,
	})
	must(t, err, "starting ingressguard as %s", in.user)
	background(t, "ingressguard "+in.deployment.Name, mgr.Start)
	envtest.Until(t, in.deployment.Name+"'s /readyz", func() bool {
		resp, err := http.Get("http://" + healthAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Cleanup(func() {
		if strings.Contains(in.logs(), "forbidden") {
			t.Errorf("a request was forbidden; the RBAC of manifests/%s is short of what ingressguard uses (see the logs)", in.overlay)
		}
	})
	return &serving{opts: o}
}

// checkAdmission applies, with kubectl as an admin, an Ingress that Istio
// cannot serve and one it can. The API server reaches both webhooks only if
// the certificate the webhook presents, issued by cert-manager, chains to
// the caBundle cainjector injected; otherwise it would refuse both Ingresses
// with a "failed calling webhook" error instead.
func (in *installation) checkAdmission(t *testing.T) {
	ctx := t.Context()
	regex := filepath.Join(repoRoot(t), "examples", "invalid", "regex-prefix.yaml")
	_, errOut, err := in.env.Kubectl(ctx, "", "apply", "-f", regex)
	if err == nil {
		t.Errorf("kubectl apply -f examples/invalid/regex-prefix.yaml succeeded; want it rejected")
	}
	contains(t, "kubectl's error", errOut,
		`The Ingress "api" is invalid: spec.rules[0].http.paths[0].path: Invalid value: "/api/.*"`,
		"Istio matches paths only exactly or by prefix", "use pathType: Prefix with path: /api")

	out, errOut, err := in.env.Kubectl(ctx, validIngress, "apply", "-f", "-")
	if err != nil {
		t.Fatalf("kubectl apply of a valid Ingress: %v", err)
	}
	contains(t, "kubectl's output", out, "ingress.networking.k8s.io/httpbin created")
	contains(t, "kubectl's warnings", errOut,
		`Warning: spec.rules[0].http.paths[0].pathType: defaulted to Exact for path "/status"`)
	var ing networkingv1.Ingress
	must(t, in.env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "httpbin"}, &ing), "reading Ingress httpbin")
	if pt := ing.Spec.Rules[0].HTTP.Paths[0].PathType; pt == nil || *pt != networkingv1.PathTypeExact {
		t.Errorf("the mutating webhook did not default pathType: %v", pt)
	}
	// serve, with the ServiceAccount's permissions, has narrowed the match
	// conditions to the install's IngressClass.
	envtest.Until(t, `the match conditions to name the IngressClass "istio"`, func() bool {
		var c admissionregistrationv1.ValidatingWebhookConfiguration
		return in.env.Client.Get(ctx, client.ObjectKey{Name: "ingressguard"}, &c) == nil &&
			strings.Contains(c.Webhooks[0].MatchConditions[0].Expression, `ingressClassName in ["istio"]`)
	})
}

// validIngress is served by Istio. Its first path's pathType is left to
// the mutating webhook; its second path's named port belongs to a Service
// that does not exist yet, which is a warning, not an error (and that path
// gets no route until the Service exists).
const validIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: httpbin
  namespace: default
spec:
  ingressClassName: istio
  rules:
  - host: httpbin.example.com
    http:
      paths:
      - path: /status
        backend:
          service:
            name: httpbin
            port:
              number: 8000
      - path: /headers
        pathType: Prefix
        backend:
          service:
            name: headers
            port:
              name: http
`

// gatewayAddress is the external IP of the ingress gateway Service that
// Ingress status must report.
const gatewayAddress = "203.0.113.10"

// checkReconciled checks everything the reconcilers write, each written with
// the controller ServiceAccount's permissions: the Gateway and VirtualService in the
// gateway namespace (created, then patched), the Ingress status, a Warning event on the Ingress
// (events.k8s.io), the leader-election Lease and the event on it (core/v1).
func (in *installation) checkReconciled(t *testing.T, s *serving) {
	ctx := t.Context()
	settings := convert.DefaultSettings()
	gw := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: settings.IngressService, Namespace: settings.GatewayNamespace},
		Spec: corev1.ServiceSpec{
			Ports:       []corev1.ServicePort{{Name: "http2", Port: 80}},
			ExternalIPs: []string{gatewayAddress},
		},
	}
	must(t, in.env.Client.Create(ctx, gw), "creating the ingress gateway Service")

	t.Run("Gateway and VirtualService in the gateway namespace", func(t *testing.T) {
		envtest.Until(t, "the Gateway", func() bool {
			return in.env.Client.Get(ctx, client.ObjectKey{Namespace: settings.GatewayNamespace, Name: convert.ObjectName("httpbin.example.com")}, &istionet.Gateway{}) == nil
		})
		envtest.Until(t, "the VirtualService", func() bool {
			return in.env.Client.Get(ctx, client.ObjectKey{Namespace: settings.GatewayNamespace, Name: convert.ObjectName("httpbin.example.com")}, &istionet.VirtualService{}) == nil
		})
	})
	t.Run("Ingress status", func(t *testing.T) {
		envtest.Until(t, "Ingress status to hold "+gatewayAddress, func() bool {
			var ing networkingv1.Ingress
			return in.env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "httpbin"}, &ing) == nil &&
				len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == gatewayAddress
		})
	})
	t.Run("Warning event on the Ingress", func(t *testing.T) {
		envtest.Until(t, "an IngressWarning event on Ingress default/httpbin", func() bool {
			var list eventsv1.EventList
			if in.env.Client.List(ctx, &list, client.InNamespace("default")) != nil {
				return false
			}
			return slices.ContainsFunc(list.Items, func(e eventsv1.Event) bool {
				return e.Regarding.Name == "httpbin" && e.Reason == "IngressWarning" && strings.Contains(e.Note, "Service default/headers does not exist")
			})
		})
	})
	t.Run("a change of the VirtualService (a patch)", func(t *testing.T) {
		// The Service that validIngress's second path names (after the
		// warning that it does not exist): that path now gets its route.
		headers := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "headers", Namespace: "default"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
		}
		must(t, in.env.Client.Create(ctx, headers), "creating Service default/headers")
		envtest.Until(t, "the VirtualService to route to Service headers", func() bool {
			var vs istionet.VirtualService
			if in.env.Client.Get(ctx, client.ObjectKey{Namespace: settings.GatewayNamespace, Name: convert.ObjectName("httpbin.example.com")}, &vs) != nil {
				return false
			}
			return slices.ContainsFunc(vs.Spec.Http, func(r *istioapi.HTTPRoute) bool {
				return len(r.Route) > 0 && strings.HasPrefix(r.Route[0].Destination.GetHost(), "headers.")
			})
		})
	})
	t.Run("leader election", func(t *testing.T) {
		ns := s.opts.leaderElectionNamespace
		envtest.Until(t, "Lease "+server.LeaderElectionID, func() bool {
			var lease coordinationv1.Lease
			return in.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: server.LeaderElectionID}, &lease) == nil &&
				ptr.Deref(lease.Spec.HolderIdentity, "") != ""
		})
		envtest.Until(t, "the LeaderElection event on the Lease", func() bool {
			var list corev1.EventList
			if in.env.Client.List(ctx, &list, client.InNamespace(ns)) != nil {
				return false
			}
			return slices.ContainsFunc(list.Items, func(e corev1.Event) bool {
				return e.Reason == "LeaderElection" && e.InvolvedObject.Name == server.LeaderElectionID
			})
		})
	})
}
