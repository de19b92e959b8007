// Command dev is `make dev`: it runs ingressguard locally as the admission
// webhook of a real kube-apiserver, for trying it with kubectl.
//
// Run it at the repository root with `make dev` (`go run ./hack/dev` works
// too, but go run exits 1 when interrupted, whatever this program's exit
// code). It
//   - builds ./cmd/ingressguard into a temporary folder;
//   - starts the control plane of package test/envtest: kube-apiserver and
//     etcd (built from Go modules by hack/envtest-assets.sh on first use,
//     about 5 minutes on 2 cores), the Istio and cert-manager CRDs, the
//     istio-system namespace and the istio IngressClass, and ingressguard's
//     webhook configurations (envtest.Webhooks: a free port of 127.0.0.1,
//     a serving certificate of a throwaway CA); it adds the httpbin Service
//     the examples route to;
//   - runs `ingressguard serve` on that port and certificate as a child
//     process, its console logs on the terminal, waits until it is ready
//     and until the API server calls its webhooks;
//   - prints the KUBECONFIG line and kubectl commands to try.
//
// SIGINT (Ctrl-C) or SIGTERM stops ingressguard, then the control plane,
// removes the temporary folders and exits 0. If ingressguard exits by
// itself, everything is stopped too and the exit code is 1.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
	"github.com/ingressguard/ingressguard/webhook"
)

// Bounds on the waits; none of them is expected to come close.
const (
	readyTimeout   = 2 * time.Minute  // for ingressguard's /readyz
	webhookTimeout = 30 * time.Second // for the API server to call the webhooks
	stopTimeout    = 20 * time.Second // between SIGTERM and SIGKILL
	// Every failed /readyz probe is logged by ingressguard: not too often.
	readyInterval = 500 * time.Millisecond
	pollInterval  = 200 * time.Millisecond
	// The usage text waits for ingressguard's start-up logs to pause for
	// settleTime, at most settleMax.
	settleTime = 1500 * time.Millisecond
	settleMax  = 10 * time.Second
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	// A closed terminal or pipe must not kill this program before it has
	// stopped what it started: writes fail instead.
	signal.Ignore(syscall.SIGPIPE)
	go func() {
		cancel(signalError{<-sigs})
		// Keep catching signals so that a second Ctrl-C cannot leave the
		// control plane running; every wait while stopping is bounded.
		for range sigs {
			say(os.Stdout, "still stopping, please wait")
		}
	}()
	if err := run(ctx, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "dev: error: %v\n", err)
		os.Exit(1)
	}
}

// signalError is the cause of the run context's end: the signal received.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string {
	switch e.sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return e.sig.String()
}

// say prints one line of this program's own, prefixed to tell it from
// ingressguard's logs.
func say(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "dev: "+format+"\n", args...)
}

// session is what run started, for stop to undo.
type session struct {
	out   io.Writer
	work  string       // temporary folder of the binary
	env   *envtest.Env // the control plane
	serve *process     // ingressguard serve
	dirs  []string     // temporary folders removed at the end, as printed
}

// run starts everything, prints how to use it and waits for a signal (ctx
// ends) or for ingressguard to exit. It stops everything before returning;
// it returns nil when a signal stopped it and everything stopped cleanly.
func run(ctx context.Context, out, errOut io.Writer) (err error) {
	root, err := envtest.RepoRoot()
	if err != nil {
		return fmt.Errorf("%w: run make dev at the root of the ingressguard repository", err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "ingressguard")); err != nil {
		return fmt.Errorf("%s is not the ingressguard repository (it has no cmd/ingressguard): run make dev at its root", root)
	}

	s := &session{out: out}
	defer func() {
		err = errors.Join(err, s.stop())
	}()
	interrupted := func(err error) error {
		if cause := context.Cause(ctx); cause != nil {
			say(out, "%v while starting: stopping", cause)
			return nil
		}
		return err
	}

	if s.work, err = os.MkdirTemp("", "ingressguard-dev-"); err != nil {
		return err
	}
	s.dirs = append(s.dirs, s.work)
	bin := filepath.Join(s.work, "ingressguard")
	say(out, "building ingressguard (go build ./cmd/ingressguard)")
	built := make(chan error, 1)
	go func() { built <- goBuild(ctx, root, bin, errOut) }()
	say(out, "starting kube-apiserver and etcd (built from Go modules on first use: about 5 minutes on 2 cores)")
	hooks, err := envtest.Webhooks(convert.DefaultSettings())
	if err == nil {
		s.env, err = envtest.Start(ctx, envtest.Options{WebhookInstallOptions: hooks})
	}
	buildErr := <-built
	if err != nil {
		return interrupted(fmt.Errorf("starting the control plane: %w", err))
	}
	wio := s.env.Environment.WebhookInstallOptions
	s.dirs = append(s.dirs, filepath.Dir(s.env.Kubeconfig), wio.LocalServingCertDir)
	if buildErr != nil {
		return interrupted(buildErr)
	}
	if err := s.env.Client.Create(ctx, httpbinService()); err != nil {
		return interrupted(fmt.Errorf("creating the httpbin Service: %w", err))
	}

	metricsAddr, err := envtest.FreeAddr()
	if err != nil {
		return err
	}
	healthAddr, err := envtest.FreeAddr()
	if err != nil {
		return err
	}
	args := []string{"serve",
		"--kubeconfig", s.env.Kubeconfig,
		"--cert-dir", wio.LocalServingCertDir,
		"--webhook-host", wio.LocalServingHost,
		"--webhook-port", strconv.Itoa(wio.LocalServingPort),
		"--metrics-addr", metricsAddr,
		"--health-addr", healthAddr,
		"--dev",
		"--leader-elect=false",
	}
	logs := &logWatch{}
	if s.serve, err = startProcess(bin, args, logs.writer(out), logs.writer(errOut)); err != nil {
		return fmt.Errorf("starting ingressguard serve: %w", err)
	}
	say(out, "started ingressguard %s (pid %d)", shellJoin(args), s.serve.pid())

	if err := s.waitReady(ctx, "http://"+healthAddr+"/readyz"); err != nil {
		return interrupted(err)
	}
	if err := s.waitWebhooks(ctx); err != nil {
		return interrupted(err)
	}
	logs.waitQuiet(settleTime, settleMax)
	s.printUsage("http://" + metricsAddr + "/metrics")

	select {
	case <-ctx.Done():
		say(out, "%v: stopping", context.Cause(ctx))
		return nil
	case <-s.serve.done:
		say(out, "ingressguard serve exited unexpectedly (%s): stopping", s.serve.exitStatus())
		return fmt.Errorf("ingressguard serve exited unexpectedly (%s); see its logs above", s.serve.exitStatus())
	}
}

// goBuild builds ./cmd/ingressguard of the repository at root into bin.
func goBuild(ctx context.Context, root, bin string, errOut io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ingressguard")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = errOut, errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/ingressguard: %w", err)
	}
	return nil
}

// httpbinService is the Service both Ingress examples route to, as in
// examples/httpbin-service.yaml (port 8000, named http).
func httpbinService() *corev1.Service {
	labels := map[string]string{"app": "httpbin"}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "httpbin", Namespace: "default", Labels: labels},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports: []corev1.ServicePort{{
				Name: "http", Port: 8000, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// waitReady polls ingressguard's /readyz until it answers 200.
func (s *session) waitReady(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: time.Second}
	return s.poll(ctx, readyInterval, readyTimeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answers %s", url, resp.Status)
		}
		return nil
	}, "ingressguard serve is not ready")
}

// waitWebhooks waits until the API server calls the validating webhook that
// envtest registered: a server-side dry run of an Ingress with a regex
// path, which stores nothing, must be denied.
func (s *session) waitWebhooks(ctx context.Context) error {
	say(s.out, "checking that the API server calls the webhooks (one dry-run Ingress, denied)")
	denied := fmt.Sprintf("admission webhook %q denied the request", webhook.ValidatingWebhookName)
	return s.poll(ctx, pollInterval, webhookTimeout, func(ctx context.Context) error {
		err := s.env.Client.Create(ctx, probeIngress(), client.DryRunAll)
		if err == nil {
			return errors.New("a dry run of an Ingress with a regex path was accepted")
		}
		if !strings.Contains(err.Error(), denied) {
			return fmt.Errorf("a dry run of an Ingress with a regex path: %w", err)
		}
		return nil
	}, "the API server does not call the validating webhook")
}

// poll runs check every interval until it returns nil, for at most timeout.
// It gives up early when ctx ends or ingressguard serve exits; after
// timeout it returns an error saying what, with check's last error.
func (s *session) poll(ctx context.Context, interval, timeout time.Duration, check func(context.Context) error, what string) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		if s.serve.exited() {
			return false, fmt.Errorf("ingressguard serve exited (%s); see its logs above", s.serve.exitStatus())
		}
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil && ctx.Err() == nil && wait.Interrupted(err) {
		return fmt.Errorf("%s after %s (%v); see its logs above", what, timeout, last)
	}
	return err
}

// probeIngress is an Ingress of ours that the validating webhook denies
// (a regex path).
func probeIngress() *networkingv1.Ingress {
	class := envtest.IngressClassName
	pathType := networkingv1.PathTypeImplementationSpecific
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "make-dev-probe", Namespace: "default"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{
				Host: "probe.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     "/(probe)",
						PathType: &pathType,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: "httpbin", Port: networkingv1.ServiceBackendPort{Number: 8000},
						}},
					}},
				}},
			}},
		},
	}
}

// printUsage prints the KUBECONFIG line and the commands to try.
func (s *session) printUsage(metricsURL string) {
	dirs := make([]string, len(s.dirs))
	for i, d := range s.dirs {
		dirs[i] = shellQuote(d)
	}
	fmt.Fprintf(s.out, `
ingressguard is the admission webhook of a local kube-apiserver. Try it in
another shell, at the root of this repository, with any kubectl >= 1.30 or
%s:

  export KUBECONFIG=%s

  The Istio task's Ingress is accepted; ingressguard writes its Gateway and VirtualService:
    kubectl apply -f examples/ingress-annotation.yaml
    kubectl get gateways,virtualservices -n istio-system
  A regex path is rejected, with the field, the value and the fix:
    kubectl apply -f examples/invalid/regex-prefix.yaml
  Without pathType the Ingress is accepted, with a warning that it became Exact:
    sed /pathType/d examples/ingress-annotation.yaml | kubectl apply -f -
  Admission decisions so far:
    curl -s %s | grep ^ingressguard_

Ctrl-C stops everything and removes %s.

`, shellQuote(s.env.KubectlPath), shellQuote(s.env.Kubeconfig), metricsURL, strings.Join(dirs, " and "))
}

// stop stops what run started, in order: ingressguard (so that it does not
// log the API server's disappearance), the control plane, then the
// temporary folders.
func (s *session) stop() error {
	var errs []error
	if s.serve != nil && !s.serve.exited() {
		say(s.out, "stopping ingressguard serve (pid %d)", s.serve.pid())
		if err := s.serve.stop(stopTimeout); err != nil {
			errs = append(errs, fmt.Errorf("stopping ingressguard serve: %w", err))
		}
	}
	if s.env != nil {
		say(s.out, "stopping kube-apiserver and etcd")
		if err := s.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the control plane: %w", err))
		}
	}
	if s.work != "" {
		if err := os.RemoveAll(s.work); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && len(s.dirs) > 0 {
		say(s.out, "stopped; removed %s", strings.Join(s.dirs, " and "))
	}
	return errors.Join(errs...)
}

// shellSafe matches the words a POSIX shell reads literally.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell, when needed.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellJoin quotes each of args and joins them with spaces.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
