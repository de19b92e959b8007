// Package e2e_test drives the real kubectl against a real kube-apiserver
// whose admission webhooks are served by ingressguard's manager, running in
// the test process, and registered through envtest.Webhooks.
package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/server"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// harness is a control plane with ingressguard's webhooks registered and
// served.
type harness struct {
	env        *envtest.Env
	mgr        manager.Manager
	metricsURL string
	stop       func() // stops ingressguard, once: an outage
}

// start runs the control plane and ingressguard's manager, and waits until
// /readyz says the webhooks can answer; edit, if any, changes the
// manager's options (to run the reconcilers too).
func start(t *testing.T, edit ...func(*server.Options)) *harness {
	settings := convert.DefaultSettings()
	hooks, err := envtest.Webhooks(settings)
	if err != nil {
		t.Fatal(err)
	}
	env := envtest.StartT(t, envtest.Options{WebhookInstallOptions: hooks})
	wio := env.Environment.WebhookInstallOptions

	logs := &envtest.Logs{}
	ctrllog.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(logs)))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ingressguard logs:\n%s", logs)
		}
	})

	metricsAddr := fmt.Sprintf("127.0.0.1:%d", envtest.FreePort(t))
	healthAddr := fmt.Sprintf("127.0.0.1:%d", envtest.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	opts := server.Options{
		Settings:    settings,
		Host:        wio.LocalServingHost,
		Port:        wio.LocalServingPort,
		CertDir:     wio.LocalServingCertDir,
		MetricsAddr: metricsAddr,
		HealthAddr:  healthAddr,
		Webhook:     true,
		// envtest.Webhooks registers the configurations under this name.
		WebhookConfiguration: "ingressguard",
	}
	for _, e := range edit {
		e(&opts)
	}
	mgr, err := server.New(ctx, env.Config, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	t.Cleanup(stop)
	envtest.Until(t, "/readyz to answer 200", func() bool {
		resp, err := http.Get("http://" + healthAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return &harness{env: env, mgr: mgr, metricsURL: "http://" + metricsAddr + "/metrics", stop: stop}
}

// kubectl runs the real kubectl; it returns stdout, stderr and whether it
// succeeded.
func (h *harness) kubectl(t *testing.T, stdin string, args ...string) (string, string, bool) {
	t.Helper()
	out, errOut, err := h.env.Kubectl(t.Context(), stdin, args...)
	return out, errOut, err == nil
}

// scrape reads ingressguard's /metrics as Prometheus would.
func (h *harness) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(h.metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// webhookRequests sums, from /metrics, every request the webhook server
// received (controller-runtime counts them per path, whatever their fate)
// and every decision of ingressguard's handlers.
func (h *harness) webhookRequests(t *testing.T) (received, decided float64) {
	t.Helper()
	families := h.scrape(t)
	sum := func(name string) float64 {
		var s float64
		for _, m := range families[name].GetMetric() {
			s += m.GetCounter().GetValue()
		}
		return s
	}
	return sum("controller_runtime_webhook_requests_total"), sum("ingressguard_admission_requests_total")
}

// decisions returns ingressguard_admission_requests_total for webhook,
// result and reason, from /metrics.
func (h *harness) decisions(t *testing.T, hook, result, reason string) float64 {
	t.Helper()
	for _, m := range h.scrape(t)["ingressguard_admission_requests_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if l["webhook"] == hook && l["result"] == result && l["reason"] == reason {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// cached waits until ingressguard's cache holds obj, so that the next
// admission request sees it.
func (h *harness) cached(t *testing.T, obj client.Object) {
	t.Helper()
	envtest.Until(t, fmt.Sprintf("the cache to hold %T %s/%s", obj, obj.GetNamespace(), obj.GetName()), func() bool {
		return h.holds(t.Context(), obj)
	})
}

// uncached waits until ingressguard's cache no longer holds obj.
func (h *harness) uncached(t *testing.T, obj client.Object) {
	t.Helper()
	envtest.Until(t, fmt.Sprintf("the cache to drop %T %s/%s", obj, obj.GetNamespace(), obj.GetName()), func() bool {
		return !h.holds(t.Context(), obj)
	})
}

// holds reports whether ingressguard's cache holds obj. Ingresses are
// looked up by key in their informer's store: a process without
// reconcilers holds them packed (lookup.Options.Packed), which the
// cache's typed Get cannot read.
func (h *harness) holds(ctx context.Context, obj client.Object) bool {
	if _, ok := obj.(*networkingv1.Ingress); !ok {
		return h.mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(obj), obj) == nil
	}
	inf, err := h.mgr.GetCache().GetInformer(ctx, obj)
	if err != nil {
		return false
	}
	shared, ok := inf.(toolscache.SharedIndexInformer)
	if !ok {
		return false
	}
	_, found, err := shared.GetStore().GetByKey(obj.GetNamespace() + "/" + obj.GetName())
	return err == nil && found
}

// secretMeta is the metadata-only form of a Secret, as ingressguard caches it.
func secretMeta(ns, name string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

func certificate(ns, name string) *cmv1.Certificate {
	return &cmv1.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// contains fails the test unless s contains every one of want.
func contains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, s)
		}
	}
}
