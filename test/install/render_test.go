// Package install_test checks the install manifests under manifests/ the way
// a cluster admin uses them: rendered by the kustomize inside kubectl,
// applied to a real kube-apiserver, their RBAC asked of the API server, the
// webhook's certificate issued and injected by cert-manager's own
// controllers, and ingressguard run under the manifests' ServiceAccount.
package install_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/webhook"
)

var update = flag.Bool("update", false, "rewrite manifests/base/webhooks.yaml from webhook.Configurations")

// webhooksHeader heads manifests/base/webhooks.yaml.
const webhooksHeader = `# The admission webhooks, exactly as webhook.Configurations generates them
# for Service ingressguard-webhook in namespace ingressguard-system (checked,
# and rewritten with -update, by ` + "`go test ./test/install -run Webhooks`" + `).
# caBundle is injected by cert-manager (components/cert-manager). The
# matchConditions follow --ingress-class: change both together.
`

// generated returns the webhook configurations webhook.Configurations
// generates for the rendered Service, with the default settings that the
// rendered Deployment runs with.
func generated(t *testing.T, r *rendering) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration) {
	var svc corev1.Service
	into(t, r.only(t, "Service"), &svc)
	return webhook.Configurations(webhook.ConfigOptions{
		Name:        "ingressguard",
		Settings:    convert.DefaultSettings(),
		Namespace:   svc.Namespace,
		ServiceName: svc.Name,
	})
}

// TestWebhooksMatchGo keeps the webhook configurations that admins install
// equal, in every overlay, to what webhook.Configurations generates (the
// form the end-to-end tests register), so the two cannot drift. Only the
// metadata that the overlays add (labels, cert-manager's annotation) may
// differ; caBundle is left to cert-manager.
func TestWebhooksMatchGo(t *testing.T) {
	kubectl := kubectlPath(t)
	if *update {
		m, v := generated(t, render(t, kubectl, overlayDefault))
		var b bytes.Buffer
		b.WriteString(webhooksHeader)
		for i, obj := range []any{m, v} {
			y, err := yaml.Marshal(obj)
			must(t, err, "marshalling %T", obj)
			if i > 0 {
				b.WriteString("---\n")
			}
			b.Write(y)
		}
		path := filepath.Join(repoRoot(t), "manifests", "base", "webhooks.yaml")
		must(t, os.WriteFile(path, b.Bytes(), 0o644), "writing %s", path)
	}
	for _, overlay := range []string{overlayDefault, overlayWebhookOnly} {
		t.Run(overlay, func(t *testing.T) {
			r := render(t, kubectl, overlay)
			wantM, wantV := generated(t, r)
			var gotM admissionregistrationv1.MutatingWebhookConfiguration
			var gotV admissionregistrationv1.ValidatingWebhookConfiguration
			into(t, r.only(t, "MutatingWebhookConfiguration"), &gotM)
			into(t, r.only(t, "ValidatingWebhookConfiguration"), &gotV)
			gotM.Labels, gotM.Annotations = nil, nil
			gotV.Labels, gotV.Annotations = nil, nil
			if d := cmp.Diff(wantM, &gotM); d != "" {
				t.Errorf("manifests/%s's MutatingWebhookConfiguration differs from webhook.Configurations (-generated +rendered); run `go test ./test/install -run Webhooks -update` and review:\n%s", overlay, d)
			}
			if d := cmp.Diff(wantV, &gotV); d != "" {
				t.Errorf("manifests/%s's ValidatingWebhookConfiguration differs from webhook.Configurations (-generated +rendered); run `go test ./test/install -run Webhooks -update` and review:\n%s", overlay, d)
			}
		})
	}
}

// TestPodWiring checks, in every overlay and for each Deployment, what the
// API server cannot: that the rendered pod is wired to what `ingressguard
// serve` listens on and reads (the flags' ports are the container's named
// ports, which the Service, the probes and the NetworkPolicy use; the
// serving certificate's Secret is mounted at --cert-dir), that the webhook
// Service selects the webhook pods and no others, and the hardening that
// Pod Security's restricted profile does not demand (read-only root
// filesystem, resource requests and limits, spreading across nodes, a
// PodDisruptionBudget).
func TestPodWiring(t *testing.T) {
	kubectl := kubectlPath(t)
	tests := []struct {
		overlay, deployment string
		// ports are the container ports the NetworkPolicy admits.
		ports []string
	}{
		{overlayDefault, "ingressguard-webhook", []string{"metrics", "webhook"}},
		{overlayDefault, "ingressguard-controller", []string{"metrics"}},
		{overlayWebhookOnly, "ingressguard-webhook", []string{"metrics", "webhook"}},
	}
	for _, tt := range tests {
		t.Run(tt.overlay+"/"+tt.deployment, func(t *testing.T) {
			r := render(t, kubectl, tt.overlay)
			var dep appsv1.Deployment
			into(t, r.find(t, "Deployment", tt.deployment), &dep)
			spec := dep.Spec.Template.Spec
			pod := labels.Set(dep.Spec.Template.Labels)
			if len(spec.Containers) != 1 {
				t.Fatalf("the pod has %d containers, want 1", len(spec.Containers))
			}
			c := spec.Containers[0]
			flags := map[string]string{}
			for _, a := range c.Args {
				if k, v, ok := strings.Cut(a, "="); ok {
					flags[k] = v
				}
			}
			webhookJob := flags["--webhook"] != "false"
			ports := map[string]int32{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			wired := map[string]string{"--metrics-addr": "metrics", "--health-addr": "health"}
			if webhookJob {
				wired["--webhook-port"] = "webhook"
			} else if _, ok := ports["webhook"]; ok {
				t.Errorf("the container runs --webhook=false but declares a webhook port")
			}
			for flag, port := range wired {
				v := flags[flag]
				if i := strings.LastIndex(v, ":"); i >= 0 {
					v = v[i+1:]
				}
				if v == "" || v != fmt.Sprint(ports[port]) {
					t.Errorf("%s is %q, but the container port %q is %d", flag, flags[flag], port, ports[port])
				}
			}

			var svc corev1.Service
			into(t, r.only(t, "Service"), &svc)
			selected := labels.SelectorFromSet(svc.Spec.Selector).Matches(pod)
			if selected != webhookJob {
				t.Errorf("the webhook Service selects the pods: %v, want %v", selected, webhookJob)
			}
			if webhookJob {
				for _, p := range svc.Spec.Ports {
					if p.TargetPort.String() != p.Name || ports[p.Name] == 0 {
						t.Errorf("Service port %s targets %s, want the container port of that name", p.Name, p.TargetPort.String())
					}
				}
			}
			for path, probe := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
				if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "health" {
					t.Errorf("want an HTTP probe of %s on the health port, got %+v", path, probe)
				}
			}

			var admitted []string
			policies := 0
			for _, o := range r.objects {
				var np networkingv1.NetworkPolicy
				if o.GetKind() != "NetworkPolicy" {
					continue
				}
				into(t, o, &np)
				sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
				must(t, err, "the NetworkPolicy's selector")
				if !sel.Matches(pod) {
					continue
				}
				policies++
				for _, rule := range np.Spec.Ingress {
					if len(rule.From) != 0 {
						t.Errorf("the NetworkPolicy restricts sources %v; the API server's address is not known", rule.From)
					}
					for _, p := range rule.Ports {
						admitted = append(admitted, p.Port.String())
					}
				}
			}
			if slices.Sort(admitted); policies != 1 || !slices.Equal(admitted, tt.ports) {
				t.Errorf("%d NetworkPolicies select the pods, admitting ports %v; want one, admitting only %v", policies, admitted, tt.ports)
			}

			var mountedAt string
			for _, m := range c.VolumeMounts {
				for _, v := range spec.Volumes {
					if v.Name == m.Name && v.Secret != nil {
						mountedAt = m.MountPath
						var cert cmv1.Certificate
						into(t, r.find(t, "Certificate", "ingressguard-webhook"), &cert)
						if v.Secret.SecretName != cert.Spec.SecretName {
							t.Errorf("the pod mounts Secret %s, the serving Certificate writes %s", v.Secret.SecretName, cert.Spec.SecretName)
						}
					}
				}
			}
			if mountedAt != flags["--cert-dir"] || webhookJob && mountedAt == "" {
				t.Errorf("the serving Secret is mounted at %q, --cert-dir is %q", mountedAt, flags["--cert-dir"])
			}

			sc := c.SecurityContext
			if sc == nil || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) {
				t.Errorf("the root filesystem is writable")
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if c.Resources.Requests.Name(res, resource.DecimalSI).IsZero() || c.Resources.Limits.Name(res, resource.DecimalSI).IsZero() {
					t.Errorf("no %s request or limit", res)
				}
			}
			if ptr.Deref(dep.Spec.Replicas, 1) < 2 {
				t.Errorf("%d replica(s): one pod restarting would stop the job (the webhooks fail closed; the reconcilers wait for a new leader)", ptr.Deref(dep.Spec.Replicas, 1))
			}
			aa := spec.Affinity
			if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 ||
				aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != corev1.LabelHostname ||
				!labels.SelectorFromSet(aa.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector.MatchLabels).Matches(pod) {
				t.Errorf("the replicas are not spread across nodes: %+v", aa)
			}
			budgets := 0
			for _, o := range r.objects {
				if o.GetKind() != "PodDisruptionBudget" {
					continue
				}
				var pdb policyv1.PodDisruptionBudget
				into(t, o, &pdb)
				sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
				must(t, err, "the PodDisruptionBudget's selector")
				if sel.Matches(pod) {
					budgets++
					if pdb.Spec.MinAvailable.IntValue() < 1 {
						t.Errorf("the PodDisruptionBudget does not keep a replica of the Deployment: %+v", pdb.Spec)
					}
				}
			}
			if budgets != 1 {
				t.Errorf("%d PodDisruptionBudgets select the pods, want 1", budgets)
			}
		})
	}
}
