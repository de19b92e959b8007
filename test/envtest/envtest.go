// Package envtest starts a real kube-apiserver and etcd (via
// sigs.k8s.io/controller-runtime/pkg/envtest) with the Istio and cert-manager
// CRDs installed, the istio-system namespace and the "istio" IngressClass, for
// integration tests.
//
// Binaries come from KUBEBUILDER_ASSETS or, when unset, from
// hack/envtest-assets.sh, which builds them from Go modules and caches them.
// CRDs are read from the module cache of the versions in go.mod.
//
// Programs (hack/dev, test/load) import this package too, so it does not
// import package testing: the helpers for tests take a TB, which
// *testing.T and *testing.B satisfy.
package envtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/internal/scheme"
	"github.com/ingressguard/ingressguard/webhook"
)

const (
	// IstioNamespace is the namespace created at start.
	IstioNamespace = "istio-system"
	// IngressClassName is the name of the IngressClass created at start.
	IngressClassName = "istio"
	// IngressController is the spec.controller of that IngressClass.
	IngressController = "istio.io/ingress-controller"
)

// Options configures Start.
type Options struct {
	// WebhookInstallOptions is passed to the controller-runtime environment,
	// to register webhook configurations served from the test process.
	WebhookInstallOptions crenvtest.WebhookInstallOptions
	// ExtraCRDPaths are files or folders of CRDs installed besides the
	// Istio and cert-manager ones.
	ExtraCRDPaths []string
	// APIServerFlags are extra kube-apiserver flags, name without the
	// leading dashes to value.
	APIServerFlags map[string]string
}

// Webhooks returns the WebhookInstallOptions that make Start register
// ingressguard's webhook configurations for settings
// (webhook.Configurations) with the API server, calling a webhook server at
// a free port of 127.0.0.1. After Start, Env.Environment.WebhookInstallOptions
// holds that host and port, and LocalServingCertDir, the folder of the
// serving certificate (tls.crt, tls.key) the server must use, which Stop
// removes.
func Webhooks(settings convert.Settings) (crenvtest.WebhookInstallOptions, error) {
	port, err := freePort()
	if err != nil {
		return crenvtest.WebhookInstallOptions{}, err
	}
	mutating, validating := webhook.Configurations(webhook.ConfigOptions{
		Name:     "ingressguard",
		Settings: settings,
		URL:      "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
	})
	return crenvtest.WebhookInstallOptions{
		MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{mutating},
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{validating},
		LocalServingHost:   "127.0.0.1",
		LocalServingPort:   port,
	}, nil
}

// Env is a running test control plane.
type Env struct {
	// Config connects to the API server as an admin (system:masters).
	Config *rest.Config
	// Client is a controller-runtime client using Scheme.
	Client client.Client
	// Scheme has client-go's types, apiextensions/v1, Istio networking/v1
	// and cert-manager v1.
	Scheme *runtime.Scheme
	// Kubeconfig is the path of an admin kubeconfig file for this env.
	Kubeconfig string
	// KubectlPath is the kubectl binary of the assets folder.
	KubectlPath string
	// Environment is the underlying controller-runtime environment; after
	// Start, Environment.WebhookInstallOptions holds the webhook serving
	// host, port and certificate folder.
	Environment *crenvtest.Environment

	tmpDir string
}

// NewScheme returns ingressguard's scheme (internal/scheme) with
// apiextensions/v1 added, for the tests that install CRDs.
func NewScheme() (*runtime.Scheme, error) {
	s := scheme.New()
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Start starts etcd and kube-apiserver, installs the CRDs, creates the
// istio-system namespace and the istio IngressClass. Call Stop when done.
func Start(ctx context.Context, opts Options) (*Env, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := AssetsDir(ctx, root)
	if err != nil {
		return nil, err
	}
	crdPaths, err := crdPaths(ctx, root)
	if err != nil {
		return nil, err
	}
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}

	te := &crenvtest.Environment{
		Scheme:                scheme,
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     append(crdPaths, opts.ExtraCRDPaths...),
		ErrorIfCRDPathMissing: true,
		WebhookInstallOptions: opts.WebhookInstallOptions,
		// envtest's default of 20 s is too short for a kube-apiserver to
		// drain on a shared 2-core machine under load, and a slow stop is
		// no failure of the code under test.
		ControlPlaneStopTimeout: time.Minute,
	}
	api := te.ControlPlane.GetAPIServer()
	api.Path = filepath.Join(assets, "kube-apiserver")
	te.ControlPlane.Etcd = &crenvtest.Etcd{Path: filepath.Join(assets, "etcd")}
	te.ControlPlane.KubectlPath = filepath.Join(assets, "kubectl")
	for k, v := range opts.APIServerFlags {
		api.Configure().Set(k, v)
	}

	cfg, err := te.Start()
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	e := &Env{Config: cfg, Scheme: scheme, KubectlPath: te.ControlPlane.KubectlPath, Environment: te}
	if err := e.setup(ctx); err != nil {
		_ = e.Stop()
		return nil, err
	}
	return e, nil
}

func (e *Env) setup(ctx context.Context) error {
	var err error
	if e.tmpDir, err = os.MkdirTemp("", "ingressguard-envtest-"); err != nil {
		return err
	}
	e.Kubeconfig = filepath.Join(e.tmpDir, "kubeconfig")
	if err := os.WriteFile(e.Kubeconfig, e.Environment.KubeConfig, 0o600); err != nil {
		return err
	}
	if e.Client, err = client.New(e.Config, client.Options{Scheme: e.Scheme}); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: IstioNamespace}}
	if err := e.Client.Create(ctx, ns); err != nil {
		return fmt.Errorf("creating namespace %s: %w", IstioNamespace, err)
	}
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: IngressClassName},
		Spec:       networkingv1.IngressClassSpec{Controller: IngressController},
	}
	if err := e.Client.Create(ctx, ic); err != nil {
		return fmt.Errorf("creating IngressClass %s: %w", IngressClassName, err)
	}
	return nil
}

// TB is the part of testing.TB that the helpers for tests use.
type TB interface {
	Helper()
	Context() context.Context
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
}

// short reports whether the test binary runs with -short: testing.Short,
// read through the flag package, which is all a program that imports this
// package without package testing has.
func short() bool {
	f := flag.Lookup("test.short")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	on, _ := g.Get().(bool)
	return on
}

// skipShort skips t under go test -short, the fast unit tier, saying what it
// would have needed.
func skipShort(t TB, needs string) {
	t.Helper()
	if short() {
		t.Skip("-short: needs " + needs)
	}
}

// StartT is Start for tests: it fails the test (t.Fatal) if the env cannot be
// started, including when the binaries are missing, and stops the env in
// t.Cleanup. Under go test -short it skips the test instead.
func StartT(t TB, opts Options) *Env {
	t.Helper()
	skipShort(t, "a kube-apiserver and etcd (envtest)")
	e, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("envtest: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	return e
}

// AssetsT is AssetsDir for tests, at the repository root: it fails the
// test if the binaries cannot be found or built. Under go test -short it
// skips the test instead, since the first call builds them for minutes.
func AssetsT(t TB) string {
	t.Helper()
	skipShort(t, "the envtest binaries (kube-apiserver, etcd, kubectl)")
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("%v", err)
	}
	dir, err := AssetsDir(t.Context(), root)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return dir
}

// PollTimeout bounds Eventually and Until: generous, since API servers,
// caches and controllers follow each other asynchronously on shared, noisy
// machines. PollInterval is how often they check.
const (
	PollTimeout  = 2 * time.Minute
	PollInterval = 100 * time.Millisecond
)

// Eventually runs check every PollInterval until it returns nil. If that
// does not happen within PollTimeout, it fails the test, saying what never
// happened and check's last error.
func Eventually(t TB, what string, check func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), PollInterval, PollTimeout, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waited %s for %s: %v", PollTimeout, what, last)
	}
}

// errNever is Until's error for a condition that does not hold.
var errNever = errors.New("it never happened")

// Until is Eventually for a condition without an error to tell.
func Until(t TB, what string, cond func() bool) {
	t.Helper()
	Eventually(t, what, func() error {
		if !cond() {
			return errNever
		}
		return nil
	})
}

// Stop stops the control plane and removes the env's temporary files.
func (e *Env) Stop() error {
	err := e.Environment.Stop()
	if e.tmpDir != "" {
		err = errors.Join(err, os.RemoveAll(e.tmpDir))
	}
	return err
}

// Kubectl runs the real kubectl against this env with args, feeding it stdin
// (if not empty), and returns its output.
func (e *Env) Kubectl(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, e.KubectlPath, append([]string{"--kubeconfig", e.Kubeconfig}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), err
}

// RepoRoot returns the nearest folder at or above the working directory that
// holds a go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// AssetsDir returns the folder holding kube-apiserver, etcd and kubectl:
// KUBEBUILDER_ASSETS if set, else the folder printed by
// hack/envtest-assets.sh under root (which builds them on first use).
func AssetsDir(ctx context.Context, root string) (string, error) {
	const hint = "run `make envtest` or `export KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh)`"
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "hack", "envtest-assets.sh"))
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("hack/envtest-assets.sh failed (%w); %s", err, hint)
		}
		dir = strings.TrimSpace(string(out))
	}
	for _, bin := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("envtest binary %s missing in %q; %s", bin, dir, hint)
		}
	}
	return dir, nil
}

// crdPaths returns the Istio and cert-manager CRD locations in the module
// cache, for the module versions of root's go.mod.
func crdPaths(ctx context.Context, root string) ([]string, error) {
	modDir := func(mod string) (string, error) {
		cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", mod)
		cmd.Dir = root
		out, err := cmd.Output()
		dir := strings.TrimSpace(string(out))
		if err == nil && dir == "" {
			err = errors.New("module not downloaded (run `go mod download`)")
		}
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("%w: %s", err, ee.Stderr)
			}
			return "", fmt.Errorf("locating module %s: %w", mod, err)
		}
		return dir, nil
	}
	istio, err := modDir("istio.io/api")
	if err != nil {
		return nil, err
	}
	certManager, err := modDir("github.com/cert-manager/cert-manager")
	if err != nil {
		return nil, err
	}
	return []string{
		filepath.Join(istio, "kubernetes", "customresourcedefinitions.gen.yaml"),
		filepath.Join(certManager, "deploy", "crds"),
	}, nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right
// now, for a server a test starts a moment later, failing the test if there
// is none. See FreeAddr.
func FreePort(t TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return port
}

// FreeAddr returns 127.0.0.1:port for a port that nothing listens on right
// now, for a server started a moment later. The port is taken below the
// kernel's ephemeral range (32768 and up on Linux), where the outgoing
// connections of other processes, which the kernel numbers from that range,
// cannot take it in the meantime; :0 would hand out an ephemeral port.
func FreeAddr() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// freePort is FreeAddr's port.
func freePort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free TCP port on 127.0.0.1 between 20000 and 32000")
}

// Logs collects the logs of the components a test runs in its process, to
// show when it fails. It is safe for concurrent writers.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Len is how many bytes were written so far.
func (l *Logs) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// Since returns what was written after the first offset bytes.
func (l *Logs) Since(offset int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b.Bytes()[offset:])
}

// String returns everything written.
func (l *Logs) String() string { return l.Since(0) }
