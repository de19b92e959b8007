// Package server assembles `ingressguard serve`: one controller-runtime
// manager that runs one of its two jobs or both, the admission webhooks
// (on every replica) and the reconcilers (on the elected leader). The
// install manifests run each job in a Deployment of its own, so that the
// reconcilers' caches and start-up burst never slow an admission.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ingressguard/ingressguard/controller"
	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/internal/scheme"
	"github.com/ingressguard/ingressguard/lookup"
	"github.com/ingressguard/ingressguard/webhook"
)

// Options configure New.
type Options struct {
	// Settings are SPEC section 1's settings; New checks them.
	Settings convert.Settings
	// Host is the address the webhook server listens on; empty for all.
	Host string
	// Port is the webhook server's HTTPS port.
	Port int
	// CertDir holds the serving certificate tls.crt and its key tls.key.
	// They are read at start and again whenever they change on disk, so a
	// renewed certificate is served without a restart. Only with Webhook.
	CertDir string
	// MetricsAddr is the plain-HTTP address of /metrics; "0" turns it off.
	MetricsAddr string
	// HealthAddr is the plain-HTTP address of /healthz and /readyz; "0"
	// turns them off.
	HealthAddr string
	// PprofAddr is the plain-HTTP address of Go's /debug/pprof profiles;
	// empty or "0" turns them off.
	PprofAddr string
	// Webhook serves the admission webhooks (package webhook) and keeps
	// their match conditions current. Without it the manager starts no
	// webhook server and opens no webhook port.
	Webhook bool
	// Reconcile runs the reconcilers that write Gateways, VirtualServices
	// and Ingress status (package controller). At least one of Webhook
	// and Reconcile must be set.
	Reconcile bool
	// WebhookConfiguration names the webhook configurations whose match
	// conditions the manager keeps current with the cluster's
	// IngressClasses (webhook.MatchConditions), with Webhook; empty leaves
	// them alone.
	WebhookConfiguration string
	// LeaderElection makes only one replica reconcile at a time, with
	// Reconcile; the webhooks are served by every replica.
	LeaderElection bool
	// LeaderElectionNamespace holds the Lease; empty means the namespace the
	// pod runs in.
	LeaderElectionNamespace string
}

// LeaderElectionID names the Lease the replicas compete for.
const LeaderElectionID = "ingressguard-leader"

// CacheOptions is the configuration of the manager's cache, and its only
// owner: managedFields stripped from every object, what the lookups read
// (lookup.CacheObjects) and, with reconcile, what the reconcilers read
// besides (controller.CacheObjects).
func CacheOptions(s convert.Settings, lo lookup.Options, reconcile bool) cache.Options {
	byObject := lookup.CacheObjects(lo)
	if reconcile {
		maps.Copy(byObject, controller.CacheObjects(s))
	}
	return cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: byObject}
}

// New returns a controller-runtime manager that serves the admission
// webhooks (webhook.Register) over TLS 1.2 or later, HTTP/1.1 only, and
// runs the reconcilers, or does one of the two, as o.Webhook and
// o.Reconcile say, with controller-runtime's and ingressguard's Prometheus
// metrics, /healthz, and /readyz, which is ready once the webhook server
// (if any) answers TLS and the cache has loaded the cluster state. It reads the cluster through a cache set up
// by package lookup; the one API call it makes before starting asks
// whether cert-manager's Certificate API is served. Typed Secret reads
// through the manager's client bypass the cache, so the process never
// caches Secret data. A cfg that sets neither QPS nor a rate limiter gets
// no client-side rate limit.
func New(ctx context.Context, cfg *rest.Config, o Options) (manager.Manager, error) {
	if err := o.Settings.Check(); err != nil {
		return nil, err
	}
	if !o.Webhook && !o.Reconcile {
		return nil, errors.New("nothing to run: serve the webhooks, run the reconcilers, or both")
	}
	if o.Webhook {
		for _, f := range []string{"tls.crt", "tls.key"} {
			if _, err := os.Stat(filepath.Join(o.CertDir, f)); err != nil {
				return nil, fmt.Errorf("the webhook server's certificate and key must be tls.crt and tls.key in the certificate folder: %w", err)
			}
		}
	}
	if cfg.QPS == 0 && cfg.RateLimiter == nil {
		// client-go would limit every client to 5 requests per second,
		// which makes convergence take minutes (1,000 new Ingresses had not
		// converged after 3 minutes in test/load). Rely on the API
		// server's priority and fairness instead, as controller-runtime's
		// config.GetConfig does for the in-cluster and KUBECONFIG configs.
		cfg = rest.CopyConfig(cfg)
		cfg.QPS = -1
	}
	log := logf.Log.WithName("webhook")
	certManager, err := lookup.CertManagerServed(cfg)
	if err != nil {
		return nil, err
	}
	if !certManager {
		log.Info("cert-manager's certificates.cert-manager.io/v1 API is not served: only Secrets count for spec.tls[].secretName; restart after installing cert-manager")
	}
	// A process that only admits holds its Ingresses packed: the
	// reconcilers' watches need them typed.
	lo := lookup.Options{GatewayNamespace: o.Settings.GatewayNamespace, CertManager: certManager, Packed: !o.Reconcile}

	opts := manager.Options{
		Scheme:                        scheme.Scheme,
		Cache:                         CacheOptions(o.Settings, lo, o.Reconcile),
		NewCache:                      lookup.NewCache,
		LeaderElection:                o.Reconcile && o.LeaderElection,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Client:                        client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		Metrics: metricsserver.Options{
			BindAddress: o.MetricsAddr,
		},
		HealthProbeBindAddress: o.HealthAddr,
		PprofBindAddress:       o.PprofAddr,
	}
	if o.Webhook {
		opts.WebhookServer = crwebhook.NewServer(crwebhook.Options{
			Host:    o.Host,
			Port:    o.Port,
			CertDir: o.CertDir,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) {
				c.MinVersion = tls.VersionTLS12
				// HTTP/2 off, so its rapid-reset and stream-flood attacks
				// (CVE-2023-44487, CVE-2023-39325) cannot reach the server;
				// the API server falls back to HTTP/1.1.
				c.NextProtos = []string{"http/1.1"}
			}},
		})
	}
	mgr, err := manager.New(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("setting up the manager: %w", err)
	}
	informers, err := lookup.New(ctx, mgr.GetCache(), lo, logf.Log.WithName("lookup"))
	if err != nil {
		return nil, err
	}
	if o.Webhook {
		// GetWebhookServer, which webhook.Register calls, adds the server
		// to the manager: only here, so that the reconcilers alone open no
		// webhook port.
		webhook.Register(mgr, o.Settings, informers)
		if err := mgr.AddReadyzCheck("webhook-server", mgr.GetWebhookServer().StartedChecker()); err != nil {
			return nil, err
		}
		if o.WebhookConfiguration != "" {
			if err := webhook.MatchConditions(mgr, o.Settings, o.WebhookConfiguration); err != nil {
				return nil, fmt.Errorf("setting up the match conditions: %w", err)
			}
		}
	}
	if o.Reconcile {
		if err := controller.IndexFields(ctx, mgr.GetFieldIndexer()); err != nil {
			return nil, err
		}
		if err := controller.Setup(mgr, controller.Options{Settings: o.Settings, View: informers}); err != nil {
			return nil, fmt.Errorf("setting up the reconcilers: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("cluster-state", func(*http.Request) error {
		if !informers.Synced() {
			return errors.New("still loading IngressClasses, Services, Ingresses, Secrets and Certificates")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return mgr, nil
}
