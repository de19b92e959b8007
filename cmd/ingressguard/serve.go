package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/server"
	"github.com/ingressguard/ingressguard/webhook"
)

// serveOptions are the flags of `ingressguard serve`.
type serveOptions struct {
	settings    convert.Settings
	kube        *genericclioptions.ConfigFlags
	webhookHost string
	webhookPort int
	certDir     string
	metricsAddr string
	healthAddr  string
	pprofAddr   string
	logFormat   string
	dev         bool
	webhook     bool
	reconcile   bool

	leaderElect             bool
	leaderElectionNamespace string
	webhookConfiguration    string
}

// newServeCommand returns `ingressguard serve`, the in-cluster process: the
// admission webhooks, the reconcilers, or both, in one controller-runtime
// manager.
func newServeCommand() *cobra.Command {
	o := serveOptions{settings: convert.DefaultSettings()}
	cmd := &cobra.Command{
		Use:   "serve --cert-dir DIR",
		Short: "Serve the admission webhooks and write the Istio objects for Ingresses",
		Long: `Serve has two jobs, which it runs in one process by default; the install
manifests run each in a Deployment of its own.

With --webhook (the default) it serves the mutating and validating admission
webhooks for networking.k8s.io/v1 Ingresses on HTTPS (TLS 1.2 or later,
HTTP/1.1):

  ` + webhook.MutatePath + `    sets a missing pathType
  ` + webhook.ValidatePath + `  rejects what Istio cannot serve

With --reconcile (the default) it writes, for every Ingress of ours, a
Gateway and, per host, a VirtualService in --gateway-namespace, keeps them
equal to what "ingressguard convert" prints, removes them when their Ingress
goes, and sets Ingress status from the --ingress-service Service. It writes
nothing while istiod converts Ingresses itself (meshConfig
ingressControllerMode other than OFF). --reconcile=false serves the webhooks
alone; --webhook=false runs the reconcilers alone, with no webhook port and
no certificate.

The serving certificate and key are tls.crt and tls.key in --cert-dir; they
are reloaded when the files change. Prometheus metrics are served on
--metrics-addr at /metrics (ingressguard_admission_requests_total counts the
decisions), liveness and readiness on --health-addr at /healthz and /readyz
(ready once the webhook server, if any, answers and the cluster state is
loaded).

The cluster is that of --kubeconfig, else KUBECONFIG, else ~/.kube/config,
at its current context or --context, as for kubectl; without any kubeconfig,
that of the pod's service account. IngressClasses, Services and Ingresses
are watched in all namespaces; Secrets (names only, never their data) and
cert-manager Certificates only in --gateway-namespace.`,
		Example: `  ingressguard serve --cert-dir /tls
  ingressguard serve --cert-dir ./certs --kubeconfig ./kubeconfig --dev
  ingressguard serve --cert-dir /tls --reconcile=false      # the webhooks alone
  ingressguard serve --webhook=false --leader-elect         # the reconcilers alone`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	fs := cmd.Flags()
	bindSettings(fs, &o.settings)
	o.kube = bindKubeconfig(fs, "kubeconfig `FILE` of the cluster (default: KUBECONFIG, then ~/.kube/config, then the pod's service account)",
		"context `NAME` of the kubeconfig to use (default: its current context)")
	fs.StringVar(&o.webhookHost, "webhook-host", "", "address the webhook server listens on (default: all)")
	fs.IntVar(&o.webhookPort, "webhook-port", 9443, "HTTPS port of the webhook server")
	fs.StringVar(&o.certDir, "cert-dir", "", "folder holding the webhook server's certificate tls.crt and key tls.key (required with --webhook)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", ":8080", `address of the Prometheus /metrics endpoint (plain HTTP); "0" turns it off`)
	fs.StringVar(&o.healthAddr, "health-addr", ":8081", `address of the /healthz and /readyz probes (plain HTTP); "0" turns them off`)
	fs.StringVar(&o.pprofAddr, "pprof-addr", "0", `address of Go's /debug/pprof profiles (plain HTTP, unauthenticated: keep it on loopback); "0" turns them off`)
	fs.StringVar(&o.logFormat, "log-format", "", "log format: json or console (default: json, console with --dev)")
	fs.BoolVar(&o.dev, "dev", false, "development logging: console format, debug level (one line per admission decision), stack traces on warnings")
	fs.StringVar(&o.webhookConfiguration, "webhook-configuration", "ingressguard", `name of the Mutating and ValidatingWebhookConfigurations whose match conditions serve keeps current with the IngressClasses, so that Ingresses of other controllers' classes are never sent to the webhooks; "" leaves them alone`)
	fs.BoolVar(&o.webhook, "webhook", true, "serve the admission webhooks and keep their match conditions current (false: the reconcilers only, no webhook port)")
	fs.BoolVar(&o.reconcile, "reconcile", true, "write Istio Gateways and VirtualServices for our Ingresses, and their status; needs istiod's meshConfig.ingressControllerMode: OFF (false: the webhooks only)")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "with several replicas, let only the elected one reconcile (a Lease named "+server.LeaderElectionID+"); the webhooks run on every replica")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader-election Lease (default: the pod's namespace; required outside a cluster)")
	return cmd
}

func (o *serveOptions) run(ctx context.Context) error {
	log, err := o.logger()
	if err != nil {
		return err
	}
	ctrllog.SetLogger(log)
	klog.SetLogger(log.WithName("client-go"))
	log = log.WithName("serve")
	if err := o.settings.Check(); err != nil {
		return err
	}
	if !o.webhook && !o.reconcile {
		return fmt.Errorf("--webhook=false and --reconcile=false leave nothing to run: keep one of them")
	}
	if o.webhook && o.certDir == "" {
		return fmt.Errorf("--cert-dir is required: the webhook server needs its certificate tls.crt and key tls.key (--webhook=false runs the reconcilers alone, without one)")
	}
	cfg, err := restConfig(o.kube)
	if err != nil {
		return err
	}
	// Kubernetes stops pods with SIGTERM; main handles only interrupts.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	mgr, err := server.New(ctx, cfg, server.Options{
		Settings:                o.settings,
		Host:                    o.webhookHost,
		Port:                    o.webhookPort,
		CertDir:                 o.certDir,
		MetricsAddr:             o.metricsAddr,
		HealthAddr:              o.healthAddr,
		PprofAddr:               o.pprofAddr,
		Webhook:                 o.webhook,
		Reconcile:               o.reconcile,
		LeaderElection:          o.leaderElect,
		LeaderElectionNamespace: o.leaderElectionNamespace,
		WebhookConfiguration:    o.webhookConfiguration,
	})
	if err != nil {
		return err
	}
	log.Info("starting", "apiServer", cfg.Host, "webhook", o.webhook, "webhookPort", o.webhookPort, "certDir", o.certDir, "reconcile", o.reconcile,
		"ingressClass", o.settings.IngressClass, "mode", o.settings.Mode, "gatewayNamespace", o.settings.GatewayNamespace)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// logger builds the controller-runtime zap logger the flags ask for.
func (o *serveOptions) logger() (logr.Logger, error) {
	opts := []zap.Opts{zap.UseDevMode(o.dev)}
	switch o.logFormat {
	case "":
	case "json":
		opts = append(opts, zap.JSONEncoder())
	case "console":
		opts = append(opts, zap.ConsoleEncoder())
	default:
		return logr.Logger{}, fmt.Errorf("--log-format %q: must be json or console", o.logFormat)
	}
	return zap.New(opts...), nil
}
