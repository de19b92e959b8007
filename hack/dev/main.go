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
//     istio-system namespace and the istio IngressClass; it adds the
//     httpbin Service the examples route to;
//   - generates a local CA and a serving certificate for 127.0.0.1;
//   - runs `ingressguard serve` as a child process, its console logs on the
//     terminal, waits until it is ready and registers its webhooks with the
//     API server (webhook.Configurations);
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
	"net"
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
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
	"github.com/ingressguard/ingressguard/webhook"
)

// Bounds on the waits; none of them is expected to come close.
const (
	readyTimeout    = 2 * time.Minute  // for ingressguard's /readyz
	registerTimeout = 30 * time.Second // for the API server to call the webhooks
	stopTimeout     = 20 * time.Second // between SIGTERM and SIGKILL
	pollInterval    = 200 * time.Millisecond
	// The usage text waits for ingressguard's start-up logs to pause for
	// settleTime, at most settleMax.
	settleTime = 1500 * time.Millisecond
	settleMax  = 10 * time.Second
)

// webhookConfigName names both webhook configurations.
const webhookConfigName = "ingressguard"

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
	work  string       // temporary folder: the binary and the certificates
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
	s.env, err = envtest.Start(ctx, envtest.Options{})
	buildErr := <-built
	if err != nil {
		return interrupted(fmt.Errorf("starting the control plane: %w", err))
	}
	s.dirs = append(s.dirs, filepath.Dir(s.env.Kubeconfig))
	if buildErr != nil {
		return interrupted(buildErr)
	}
	if err := s.env.Client.Create(ctx, httpbinService()); err != nil {
		return interrupted(fmt.Errorf("creating the httpbin Service: %w", err))
	}

	certDir := filepath.Join(s.work, "certs")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		return err
	}
	caPEM, err := writeCertificates(certDir, certValidity)
	if err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	webhookPort := ports[0]
	metricsAddr := "127.0.0.1:" + strconv.Itoa(ports[1])
	healthAddr := "127.0.0.1:" + strconv.Itoa(ports[2])
	args := []string{"serve",
		"--kubeconfig", s.env.Kubeconfig,
		"--cert-dir", certDir,
		"--webhook-host", "127.0.0.1",
		"--webhook-port", strconv.Itoa(webhookPort),
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
	webhookURL := "https://127.0.0.1:" + strconv.Itoa(webhookPort)
	if err := s.register(ctx, webhookURL, caPEM); err != nil {
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

// freePorts returns n distinct TCP ports of 127.0.0.1 that nothing listens
// on right now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitReady polls ingressguard's /readyz until it answers 200.
func (s *session) waitReady(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	// Every failed probe is logged by ingressguard: back off.
	wait := 250 * time.Millisecond
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ingressguard serve is not ready after %s (%s does not answer 200; see its logs above)", readyTimeout, url)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.serve.done:
			return fmt.Errorf("ingressguard serve exited before it was ready (%s); see its logs above", s.serve.exitStatus())
		case <-time.After(wait):
			wait = min(2*wait, 2*time.Second)
		}
	}
}

// register creates the webhook configurations pointing at url and waits
// until the API server calls the validating webhook: a server-side dry run
// of an Ingress with a regex path, which stores nothing, must be denied.
func (s *session) register(ctx context.Context, url string, caPEM []byte) error {
	mutating, validating := webhook.Configurations(webhook.ConfigOptions{
		Name:     webhookConfigName,
		Settings: convert.DefaultSettings(),
		URL:      url,
		CABundle: caPEM,
	})
	c := s.env.Client
	if err := c.Create(ctx, mutating); err != nil {
		return fmt.Errorf("registering the mutating webhook: %w", err)
	}
	if err := c.Create(ctx, validating); err != nil {
		return fmt.Errorf("registering the validating webhook: %w", err)
	}
	say(s.out, "registered the webhooks; checking that the API server calls them (one dry-run Ingress, denied)")
	denied := fmt.Sprintf("admission webhook %q denied the request", webhook.ValidatingWebhookName)
	deadline := time.Now().Add(registerTimeout)
	for {
		err := c.Create(ctx, probeIngress(), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), denied) {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("it was accepted")
			}
			return fmt.Errorf("the API server does not call the validating webhook after %s: a dry run of an Ingress with a regex path: %w", registerTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.serve.done:
			return fmt.Errorf("ingressguard serve exited (%s); see its logs above", s.serve.exitStatus())
		case <-time.After(pollInterval):
		}
	}
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
