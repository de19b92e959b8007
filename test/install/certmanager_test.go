package install_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	cmcontroller "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	cmutil "github.com/cert-manager/cert-manager/pkg/util"
	// The CA and self-signed Issuer types, for the issuers controller.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ingressguard/ingressguard/test/envtest"
)

// issuanceControllers are the cert-manager controllers that take a
// Certificate from a self-signed or CA Issuer to a Secret: the Issuer
// readiness check, the Certificate state machine (trigger, private key,
// CertificateRequest, issuing, readiness), the built-in approver and the
// self-signed and CA signers. They are the controllers of cert-manager's
// controller binary, registered by importing their packages.
var issuanceControllers = []string{
	issuers.ControllerName,
	trigger.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	issuing.ControllerName,
	readiness.ControllerName,
	approver.ControllerName,
	crselfsigned.CRControllerName,
	crca.CRControllerName,
}

// runCertManager runs cert-manager's issuance controllers against env, in
// this process, until the test ends: wired as cert-manager's controller
// binary wires them (one context factory, every controller built from it,
// then its shared informers started), with cert-manager's default backoffs.
func runCertManager(t *testing.T, env *envtest.Env) {
	t.Helper()
	background(t, "cert-manager controllers", func(ctx context.Context) error {
		factory, err := cmcontroller.NewContextFactory(ctx, cmcontroller.ContextOptions{
			Kubeconfig:         env.Kubeconfig,
			KubernetesAPIQPS:   50,
			KubernetesAPIBurst: 100,
			IssuerOptions:      cmcontroller.IssuerOptions{ClusterResourceNamespace: "cert-manager"},
			CertificateOptions: cmcontroller.CertificateOptions{
				CertificateRequestMinimumBackoffDuration: time.Hour,
				CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
			},
		})
		if err != nil {
			return fmt.Errorf("building cert-manager's controller context: %w", err)
		}
		shared, err := factory.Build()
		if err != nil {
			return err
		}
		known := cmcontroller.Known()
		var wg sync.WaitGroup
		errs := make(chan error, len(issuanceControllers))
		for _, name := range issuanceControllers {
			construct, ok := known[name]
			if !ok {
				return fmt.Errorf("cert-manager controller %s is not registered", name)
			}
			c, err := construct(factory)
			if err != nil {
				return fmt.Errorf("building cert-manager controller %s: %w", name, err)
			}
			wg.Go(func() {
				if err := c.Run(1, ctx); err != nil {
					errs <- fmt.Errorf("cert-manager controller %s: %w", name, err)
				}
			})
		}
		shared.SharedInformerFactory.Start(ctx.Done())
		shared.KubeSharedInformerFactory.Start(ctx.Done())
		shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
		wg.Wait()
		shared.HTTP01ResourceMetadataInformersFactory.Shutdown()
		shared.KubeSharedInformerFactory.Shutdown()
		shared.SharedInformerFactory.Shutdown()
		close(errs)
		var all []error
		for err := range errs {
			all = append(all, err)
		}
		return errors.Join(all...)
	})
}

// runCAInjector runs cert-manager's cainjector against env, in this process,
// until the test ends: the manager and options of cert-manager's cainjector
// binary (Secrets read uncached, Certificates as a data source), with the
// injectors for webhook configurations, the only kinds ingressguard
// annotates.
func runCAInjector(t *testing.T, env *envtest.Env) {
	t.Helper()
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	utilruntime.Must(apiregistrationv1.AddToScheme(scheme))
	// The user agent names cainjector's field manager, as in its binary.
	mgr, err := ctrl.NewManager(cmutil.RestConfigWithUserAgent(env.Config, "cainjector"), ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Each test runs its own cainjector in this one process, under the
		// same controller names.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:      cache.Options{ReaderFailOnMissingInformer: true},
		Client: client.Options{Cache: &client.CacheOptions{
			DisableFor: []client.Object{&corev1.Secret{}},
		}},
	})
	must(t, err, "creating cainjector's manager")
	must(t, cainjector.RegisterAllInjectors(t.Context(), mgr, cainjector.SetupOptions{
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
		},
	}), "registering cainjector's injectors")
	background(t, "cainjector", mgr.Start)
}
