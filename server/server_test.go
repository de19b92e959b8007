package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/server"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// job is one `ingressguard serve` process of the install manifests, run in
// this test process against the API server through its own proxy, which
// counts its requests.
type job struct {
	proxy      *envtest.FaultProxy
	healthAddr string
	port       int
}

// startJob runs server.New with o against env through a fresh proxy and
// waits until its /readyz answers 200.
func startJob(t *testing.T, env *envtest.Env, o server.Options) *job {
	t.Helper()
	proxy, err := envtest.StartFaultProxy(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	j := &job{proxy: proxy, healthAddr: fmt.Sprintf("127.0.0.1:%d", envtest.FreePort(t)), port: o.Port}
	o.Settings, o.MetricsAddr, o.HealthAddr = convert.DefaultSettings(), "0", j.healthAddr
	mgr, err := server.New(t.Context(), proxy.Config(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	envtest.Until(t, "/readyz to answer 200", func() bool {
		resp, err := http.Get("http://" + j.healthAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return j
}

// writes returns the "METHOD resource[/subresource]" of every write the
// job has made.
func (j *job) writes() []string {
	var out []string
	j.proxy.Seen(func(r envtest.Request) bool {
		if r.Write() {
			w := r.Method + " " + r.Resource
			if r.Subresource != "" {
				w += "/" + r.Subresource
			}
			out = append(out, w)
		}
		return false
	})
	return out
}

// TestJobs runs the two jobs of the install manifests as two managers: the
// webhooks alone (Reconcile false) and the reconcilers alone (Webhook
// false). The reconcilers open no webhook port and are ready without one;
// the webhooks write nothing but their own match conditions, even once the
// Ingress they admitted has its Gateway.
func TestJobs(t *testing.T) {
	ctrllog.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(&envtest.Logs{})))
	hooks, err := envtest.Webhooks(convert.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	env := envtest.StartT(t, envtest.Options{WebhookInstallOptions: hooks})
	wio := env.Environment.WebhookInstallOptions
	ctx := t.Context()

	webhooks := startJob(t, env, server.Options{
		Webhook: true, Host: wio.LocalServingHost, Port: wio.LocalServingPort, CertDir: wio.LocalServingCertDir,
		WebhookConfiguration: "ingressguard",
	})
	class := envtest.IngressClassName
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "httpbin"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{Host: "httpbin.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
				HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/status",
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: "httpbin", Port: networkingv1.ServiceBackendPort{Number: 8000},
					}},
				}}},
			}}},
		},
	}
	if err := env.Client.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	if ing.Spec.Rules[0].HTTP.Paths[0].PathType == nil {
		t.Fatal("the mutating webhook of the webhook job did not set pathType")
	}

	controllerPort := envtest.FreePort(t)
	controller := startJob(t, env, server.Options{Reconcile: true, Host: "127.0.0.1", Port: controllerPort})
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", controllerPort)); err == nil {
		c.Close()
		t.Errorf("the reconcilers alone listen on the webhook port %d", controllerPort)
	}
	envtest.Until(t, "the reconcilers to write the Gateway", func() bool {
		var gws istionet.GatewayList
		return env.Client.List(ctx, &gws, client.InNamespace(envtest.IstioNamespace)) == nil && len(gws.Items) == 1
	})

	if got := controller.writes(); !slices.Contains(got, "POST gateways") {
		t.Errorf("the reconcilers' writes %v lack the Gateway's create", got)
	}
	for _, w := range webhooks.writes() {
		if !strings.HasSuffix(w, "webhookconfigurations") {
			t.Errorf("the webhooks alone wrote: %s", w)
		}
	}
	for _, w := range controller.writes() {
		if strings.HasSuffix(w, "webhookconfigurations") {
			t.Errorf("the reconcilers alone wrote: %s", w)
		}
	}
}

// TestNothingToRun: a manager with neither job is refused before it reads
// the cluster.
func TestNothingToRun(t *testing.T) {
	_, err := server.New(t.Context(), nil, server.Options{Settings: convert.DefaultSettings()})
	if err == nil || !strings.Contains(err.Error(), "nothing to run") {
		t.Errorf("New with neither Webhook nor Reconcile: %v, want a refusal saying there is nothing to run", err)
	}
}
