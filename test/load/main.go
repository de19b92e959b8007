// Command load measures ingressguard against a real kube-apiserver and
// etcd (the envtest helper): admission latency and throughput against a
// floor, how they change from a cluster of 10 Ingresses to one of -n,
// how fast the reconcilers converge against how fast a plain API client
// writes the same objects, how many writes a resync makes, and the memory
// of the two serve processes.
//
//	go run ./test/load [-n 10000] [-count 3] [-json]
//
// It runs four processes besides the API server and etcd: itself (the
// load generator), the two jobs of `ingressguard serve` as the install
// manifests run them, each in a process of its own (built from
// ./cmd/ingressguard, with its default settings and the environment its
// Deployment gives it, such as GOMEMLIMIT and GOGC; -serve-env adds to
// both): the webhooks (--reconcile=false) and the reconcilers
// (--webhook=false), and the floor (test/load/floor): a webhook that only
// decodes the review and the Ingress and answers allowed, with the same TLS
// settings. Each runs in a process of its own so that its CPU time and
// peak RSS are its own.
//
// In order, it:
//
//  1. fills the cluster with 10 Ingresses and 10 Secrets and measures
//     admission straight to the webhooks;
//  2. creates -converge more Ingresses (two per host) and times until every
//     Gateway and VirtualService equals what convert.Settings.Convert
//     makes of the cluster's Ingresses; then times the convergence floor:
//     a plain API client creating the same Gateways and VirtualServices
//     (in a namespace of their own, then deleted), one host key's pair at
//     a time in each of as many workers as the reconciler has; restarts
//     the reconcilers and counts the write calls of the resync; then
//     deletes every generated object, restarts the reconcilers, times the
//     cold convergence and its floor (every object of the cluster);
//  3. fills the cluster up to -n Ingresses and -n Secrets (Secrets spread
//     over all namespaces, one in 51 in istio-system), restarts both jobs
//     (a second resync) and measures admission straight to the webhooks
//     and through the API server (dry-run creates); then starts a second
//     API server holding 10 Ingresses, with its own webhook process, and
//     measures direct admission at c=4 against both clusters in
//     alternation (the paired scale measurement);
//  4. reads each job's peak RSS (VmHWM) and its Go heap after a
//     collection; then measures the webhooks under a hostile tenant.
//
// Direct admission posts AdmissionReviews over HTTPS with keep-alive at
// each -concurrency, -requests per run; through the API server, -api-requests
// dry-run creates per run, with the webhooks that a label on the Ingress
// selects: none, the floor's, or ingressguard's. Each run is repeated
// -count times, the targets interleaved, and the table shows medians and
// their ratios to the floor's at the same concurrency. The load generator
// collects its own garbage before each run and not during it. -json
// prints the same as JSON. Everything stops by itself; -timeout bounds the
// whole run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
	"github.com/ingressguard/ingressguard/webhook"
)

// options are the command-line flags.
type options struct {
	n           int
	small       int
	converge    int
	requests    int
	apiRequests int
	count       int
	concurrency []int
	json        bool
	timeout     time.Duration
	profile     string
	keep        bool
	serveEnv    []string
}

func main() {
	// The load generator's own clients log nothing.
	ctrllog.SetLogger(logr.Discard())
	klog.SetLogger(logr.Discard())
	o := options{small: 10}
	conc := "1,4,32"
	flag.IntVar(&o.n, "n", 10000, "Ingresses, and Secrets, in the large cluster")
	flag.IntVar(&o.converge, "converge", 1000, "Ingresses created for the convergence measurement (two per host)")
	flag.IntVar(&o.requests, "requests", 30000, "AdmissionReviews per direct run: enough for a steady p99, in runs that span several garbage collections")
	flag.IntVar(&o.apiRequests, "api-requests", 2000, "dry-run creates per run through the API server")
	flag.IntVar(&o.count, "count", 3, "runs of each admission measurement; the table shows medians")
	flag.StringVar(&conc, "concurrency", conc, "comma-separated concurrencies of the admission runs")
	flag.BoolVar(&o.json, "json", false, "print the results as JSON instead of a table")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.StringVar(&o.profile, "profile", "", "folder to write the webhook process's CPU profiles of the direct runs at -n, the reconcilers' and kube-apiserver's of the live convergence, and both serve processes' heap profiles, into")
	flag.BoolVar(&o.keep, "keep", false, "keep the logs of serve and the floor, and say where")
	flag.Func("serve-env", "`NAME=VALUE` in the environment of both serve processes, after the install manifests' (GOMEMLIMIT=off runs without their memory limit; repeatable)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("%q is not NAME=VALUE", v)
		}
		o.serveEnv = append(o.serveEnv, v)
		return nil
	})
	flag.Parse()
	var err error
	if o.concurrency, err = parseInts(conc); err != nil {
		fmt.Fprintln(os.Stderr, "load: -concurrency:", err)
		os.Exit(2)
	}
	if o.n < o.small+o.converge || o.converge < 2 || o.requests < 1 || o.apiRequests < 1 || o.count < 1 {
		fmt.Fprintf(os.Stderr, "load: need -n >= %d + -converge, -converge >= 2, and positive -requests, -api-requests and -count\n", o.small)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rep, err := measure(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// logf reports progress on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// job is one of the two jobs of `ingressguard serve`, run as the install
// manifests' Deployment of that job runs it.
type job struct {
	name string
	// deployment is the Deployment's manifest, relative to the repository
	// root.
	deployment string
	// flags select the job.
	flags []string
	// webhook says the job serves the webhooks (and needs their port and
	// certificate).
	webhook bool
}

var (
	webhookJob    = job{name: "webhook", deployment: "manifests/base/deployment-webhook.yaml", flags: []string{"--reconcile=false"}, webhook: true}
	controllerJob = job{name: "controller", deployment: "manifests/base/deployment-controller.yaml", flags: []string{"--webhook=false"}}
)

// floorNS holds the convergence floor's copies of the generated objects,
// where the reconcilers (which watch the gateway namespace only) never see
// them.
const floorNS = "load-floor-writes"

// bench is the running system under test.
type bench struct {
	o   options
	tmp string
	// serveBin is ingressguard, built from ./cmd/ingressguard; serveEnv is,
	// by job name, the install manifests' environment for it, then
	// -serve-env.
	serveBin string
	serveEnv map[string][]string
	env      *envtest.Env
	client   client.Client
	api      throughAPI
	direct   direct
	tracker  *tracker
	// stopTracker ends the tracker's watches before the API server stops.
	stopTracker context.CancelFunc
	floor       *proc
	webhook     *proc // the webhook job
	controller  *proc // the reconcilers' job
	gen         int
	port        int    // the webhook job's port, registered with the API server
	floorAt     string // the floor's base URL
	apiPID      int
	rep         *report
}

func measure(ctx context.Context, o options) (rep *report, err error) {
	b := &bench{o: o, rep: &report{}}
	b.rep.Machine = machineNow()
	b.rep.Settings = settingsOf(o)
	root, err := envtest.RepoRoot()
	if err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "ingressguard-load-"); err != nil {
		return nil, err
	}
	defer func() {
		switch {
		case err != nil:
			err = fmt.Errorf("%w (logs of serve and the floor are in %s)", err, b.tmp)
		case o.keep:
			logf("logs of serve and the floor are in %s", b.tmp)
		default:
			_ = os.RemoveAll(b.tmp)
		}
	}()
	if o.profile != "" {
		if o.profile, err = filepath.Abs(o.profile); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return nil, err
		}
		b.o.profile = o.profile
	}
	b.serveEnv = map[string][]string{}
	for _, j := range []job{webhookJob, controllerJob} {
		installed, err := installedEnv(root, j.deployment)
		if err != nil {
			return nil, err
		}
		b.serveEnv[j.name] = append(installed, o.serveEnv...)
	}
	b.rep.Settings["serveEnv"] = b.serveEnv
	logf("building ingressguard and the floor webhook")
	floorBin, serveBin := filepath.Join(b.tmp, "floor"), filepath.Join(b.tmp, "ingressguard")
	for bin, pkg := range map[string]string{floorBin: "./test/load/floor", serveBin: "./cmd/ingressguard"} {
		// Built as make build and the Dockerfile build the shipped binary:
		// a binary with its symbol table and DWARF keeps twice the pages
		// resident (54 against 24 MiB of file-backed RSS at start-up).
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("building %s: %w", pkg, err)
		}
	}
	b.serveBin = serveBin
	if err := b.start(ctx, floorBin); err != nil {
		return nil, err
	}
	defer b.stopAll()
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	b.rep.Machine.LoadAfter = machineNow().LoadBefore
	b.rep.evaluate()
	return b.rep, nil
}

// start runs the API server with both sets of webhooks registered, the
// floor and the first serve processes.
func (b *bench) start(ctx context.Context, floorBin string) error {
	var err error
	if b.port, err = freePort(); err != nil {
		return err
	}
	floorPort, err := freePort()
	if err != nil {
		return err
	}
	mut, val := webhook.Configurations(webhook.ConfigOptions{
		Name: "ingressguard", Settings: convert.DefaultSettings(), URL: fmt.Sprintf("https://127.0.0.1:%d", b.port)})
	b.floorAt = fmt.Sprintf("https://127.0.0.1:%d", floorPort)
	fmut, fval := floorConfigurations(mut, val, b.floorAt)
	logf("starting kube-apiserver and etcd")
	b.env, err = envtest.Start(ctx, envtest.Options{
		WebhookInstallOptions: crenvtest.WebhookInstallOptions{
			MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{mut, fmut},
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{val, fval},
			LocalServingHost:   "127.0.0.1",
			LocalServingPort:   b.port,
		},
		// Room for a ClusterIP per Service (envtest's default has 254).
		APIServerFlags: map[string]string{"service-cluster-ip-range": "10.96.0.0/16"},
	})
	if err != nil {
		return err
	}
	b.apiPID = childNamed("kube-apiserver")
	cfg := rest.CopyConfig(b.env.Config)
	cfg.QPS = -1 // no client-side rate limit: the API server's fairness is the limit
	// The load program shares the machine under test: no compressing of
	// its watches by the API server, nor decompressing here.
	cfg.DisableCompression = true
	if b.client, err = client.New(cfg, client.Options{Scheme: b.env.Scheme}); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	b.api = throughAPI{cs: cs}
	wio := b.env.Environment.WebhookInstallOptions
	b.direct = direct{ca: wio.LocalServingCAData}
	tctx, cancel := context.WithCancel(ctx)
	b.stopTracker = cancel
	if b.tracker, err = newTracker(tctx, cfg, b.env.Scheme, b.client); err != nil {
		return err
	}
	b.floor, err = startProc("floor", filepath.Join(b.tmp, "floor.log"), floorBin,
		[]string{"-addr", fmt.Sprintf("127.0.0.1:%d", floorPort), "-cert-dir", wio.LocalServingCertDir}, nil)
	if err != nil {
		return err
	}
	if err := b.floor.waitTLS(ctx, fmt.Sprintf("127.0.0.1:%d", floorPort)); err != nil {
		return err
	}
	if err := b.startWebhook(ctx); err != nil {
		return err
	}
	if err := b.startController(ctx); err != nil {
		return err
	}
	var objs []client.Object
	for _, ns := range append(namespaces(), floorNS) {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	objs = append(objs, gatewayService())
	if err := createAll(ctx, b.client, 8, objs); err != nil {
		return err
	}
	gw := gatewayService()
	if err := b.client.Get(ctx, client.ObjectKeyFromObject(gw), gw); err != nil {
		return err
	}
	gw.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: gatewayIP}}
	return b.client.Status().Update(ctx, gw)
}

// floorConfigurations registers the floor for Ingresses labelled
// webhookLabel=floor, exactly as ingressguard's webhooks are registered,
// and keeps ingressguard's webhooks away from the floor's Ingresses and
// from those labelled "none".
func floorConfigurations(mut *admissionregistrationv1.MutatingWebhookConfiguration, val *admissionregistrationv1.ValidatingWebhookConfiguration, url string) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration) {
	notOurs := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: webhookLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"floor", "none"}}}}
	floors := &metav1.LabelSelector{MatchLabels: map[string]string{webhookLabel: "floor"}}
	fmut, fval := mut.DeepCopy(), val.DeepCopy()
	fmut.Name, fval.Name = "load-floor", "load-floor"
	fmut.Webhooks[0].Name, fval.Webhooks[0].Name = "mutate.floor.load.ingressguard.io", "validate.floor.load.ingressguard.io"
	fmut.Webhooks[0].ClientConfig.URL, fval.Webhooks[0].ClientConfig.URL = ptr(url+webhook.MutatePath), ptr(url+webhook.ValidatePath)
	fmut.Webhooks[0].ObjectSelector, fval.Webhooks[0].ObjectSelector = floors, floors
	mut.Webhooks[0].ObjectSelector, val.Webhooks[0].ObjectSelector = notOurs, notOurs.DeepCopy()
	return fmut, fval
}

// startWebhook starts a fresh webhook process for the cluster, stopping
// the one before, and waits until it is ready.
func (b *bench) startWebhook(ctx context.Context) error {
	if b.webhook != nil {
		if err := b.webhook.stop(); err != nil {
			return err
		}
	}
	b.gen++
	p, err := b.startJob(ctx, webhookJob, fmt.Sprintf("webhook-%d", b.gen), b.env, b.port)
	if p != nil {
		b.webhook = p // stopAll stops it, ready or not
	}
	return err
}

// startController starts a fresh reconcilers' process for the cluster,
// stopping the one before, and waits until it is ready.
func (b *bench) startController(ctx context.Context) error {
	if b.controller != nil {
		if err := b.controller.stop(); err != nil {
			return err
		}
	}
	b.gen++
	p, err := b.startJob(ctx, controllerJob, fmt.Sprintf("controller-%d", b.gen), b.env, 0)
	if p != nil {
		b.controller = p
	}
	return err
}

// startJob starts `ingressguard serve` for env as j, serving the webhooks
// (if j does) on port, logging to name.log, and waits until it is ready.
// Another process can take one of the loopback ports freeAddr picked for
// serve's endpoints before serve binds it (a quick run failed so); serve
// then exits, and is started again on other ports, up to three times in
// all.
func (b *bench) startJob(ctx context.Context, j job, name string, env *envtest.Env, port int) (*proc, error) {
	for attempt := 1; ; attempt++ {
		p, err := b.tryJob(ctx, j, name, env, port)
		if err == nil || attempt == 3 || p == nil || p.exited() == nil || !strings.Contains(err.Error(), "address already in use") {
			return p, err
		}
		logf("%s could not bind a port picked for it (%v); starting it again", name, p.err)
	}
}

// tryJob is one attempt of startJob.
func (b *bench) tryJob(ctx context.Context, j job, name string, env *envtest.Env, port int) (*proc, error) {
	addrs := make([]string, 3)
	for i := range addrs {
		var err error
		if addrs[i], err = freeAddr(); err != nil {
			return nil, err
		}
	}
	args := []string{"serve", "--metrics-addr", addrs[0], "--health-addr", addrs[1], "--pprof-addr", addrs[2]}
	if j.webhook {
		wio := env.Environment.WebhookInstallOptions
		args = append(args, "--cert-dir", wio.LocalServingCertDir, "--webhook-host", "127.0.0.1", "--webhook-port", strconv.Itoa(port))
	}
	p, err := startProc(name, filepath.Join(b.tmp, name+".log"), b.serveBin, append(args, j.flags...),
		append([]string{"KUBECONFIG=" + env.Kubeconfig}, b.serveEnv[j.name]...))
	if err != nil {
		return nil, err
	}
	p.metricsAddr, p.healthAddr, p.debugAddr = addrs[0], addrs[1], addrs[2]
	return p, p.waitReady(ctx) // p also on error, for the caller to stop
}

func (b *bench) stopAll() {
	for _, p := range []*proc{b.webhook, b.controller} {
		if p != nil {
			_ = p.stop()
		}
	}
	if b.floor != nil {
		_ = b.floor.stop()
	}
	if b.stopTracker != nil {
		b.stopTracker()
	}
	if b.env != nil {
		if err := b.env.Stop(); err != nil {
			logf("stopping the API server: %v", err)
		}
	}
}

// fixtures returns Secrets [from, to) and the Services that Ingresses
// [from, to) resolve named ports through, then those Ingresses.
func fixtures(from, to int) (pre, ings []client.Object) {
	for i := from; i < to; i++ {
		pre = append(pre, secret(i))
		if namedPort(i) {
			pre = append(pre, service(i))
		}
		ings = append(ings, ingress(i))
	}
	return pre, ings
}

// fill creates fixtures [from, to), the Ingresses through the webhooks.
func (b *bench) fill(ctx context.Context, from, to int) error {
	pre, ings := fixtures(from, to)
	if err := createAll(ctx, b.client, 16, pre); err != nil {
		return err
	}
	return createAll(ctx, b.client, 16, ings)
}

func (b *bench) run(ctx context.Context) error {
	o := b.o
	// 1. A small cluster.
	logf("filling the cluster with %d Ingresses and %d Secrets", o.small, o.small)
	t0 := time.Now()
	if err := b.fill(ctx, 0, o.small); err != nil {
		return err
	}
	if _, err := b.converged(ctx, t0, 2*time.Minute); err != nil {
		return err
	}
	if err := b.admission(ctx, o.small, false); err != nil {
		return err
	}

	// 2. Convergence of -converge Ingresses and its floor, resync, cold
	// start and its floor.
	from, to := o.small, o.small+o.converge
	conv := &b.rep.Convergence
	conv.Ingresses, conv.Hosts, conv.ClusterIngresses = o.converge, to/2-from/2, to
	before, err := envtest.Desired(ctx, b.client, convert.DefaultSettings())
	if err != nil {
		return err
	}
	pre, ings := fixtures(from, to)
	if err := createAll(ctx, b.client, 16, pre); err != nil {
		return err
	}
	logf("creating %d Ingresses on %d hosts, 8 at a time", o.converge, conv.Hosts)
	profiled := b.profileConvergence(ctx, 6)
	cpu := b.sampleCPU(ctx)
	t0 = time.Now()
	if err := createAll(ctx, b.client, 8, ings); err != nil {
		return err
	}
	conv.CreateSeconds = time.Since(t0).Seconds()
	d, err := b.converged(ctx, t0, 3*time.Minute)
	if err != nil {
		return err
	}
	if err := profiled(); err != nil {
		return err
	}
	conv.LiveSeconds = d.Seconds()
	conv.LiveCPU = cpu.until(t0.Add(d))
	logf("converged %.1f s after the first create; CPU seconds: %s", conv.LiveSeconds, conv.LiveCPU)
	after, err := envtest.Desired(ctx, b.client, convert.DefaultSettings())
	if err != nil {
		return err
	}
	// The floor gets the machine to itself: the Ingress reconciler's status
	// patches, which follow the routes, must not slow it down.
	if err := settled(ctx, b.controller, 2*time.Second, 2*time.Minute); err != nil {
		return err
	}
	if conv.LiveFloor, err = b.floorWrites(ctx, generated(after), generated(before)); err != nil {
		return err
	}
	logf("convergence floor: a plain client wrote the %d objects of the %d new hosts in %.1f s; CPU seconds: %s", conv.LiveFloor.Objects, conv.Hosts, conv.LiveFloor.Seconds, conv.LiveFloor.CPU)
	if conv.Resync, err = b.resync(ctx); err != nil {
		return err
	}
	logf("cold start: deleting every generated object, then starting the reconcilers")
	if err := b.controller.stop(); err != nil {
		return err
	}
	if conv.CreateAlone, err = b.createAlone(ctx, to, to+o.converge); err != nil {
		return err
	}
	logf("with the reconcilers stopped, creating %d Ingresses took %.1f s; CPU seconds: %s", conv.CreateAlone.Objects, conv.CreateAlone.Seconds, conv.CreateAlone.CPU)
	if conv.Together, err = b.together(ctx, to, to+o.converge, generated(after), generated(before)); err != nil {
		return err
	}
	logf("with the reconcilers stopped, creating %d Ingresses while a plain client wrote the %d objects took %.1f s; CPU seconds: %s", o.converge, conv.LiveFloor.Objects, conv.Together.Seconds, conv.Together.CPU)
	for _, obj := range []client.Object{&istionet.Gateway{}, &istionet.VirtualService{}} {
		if err := b.client.DeleteAllOf(ctx, obj, client.InNamespace(gatewayNS), client.MatchingLabels{convert.LabelManagedBy: convert.ManagedBy}); err != nil {
			return err
		}
	}
	if err := b.floor.waitFor(ctx, "seeing the generated objects deleted", time.Minute, func() bool {
		seen, err := b.tracker.seen(ctx)
		return err == nil && len(seen) == 0
	}); err != nil {
		return err
	}
	if err := b.startController(ctx); err != nil {
		return err
	}
	if d, err = b.converged(ctx, b.controller.started, 3*time.Minute); err != nil {
		return err
	}
	conv.ColdSeconds = d.Seconds()
	logf("cold start converged %.1f s after the reconcilers started", conv.ColdSeconds)
	if err := settled(ctx, b.controller, 2*time.Second, 2*time.Minute); err != nil {
		return err
	}
	if conv.ColdFloor, err = b.floorWrites(ctx, generated(after), nil); err != nil {
		return err
	}
	logf("convergence floor: a plain client wrote all %d objects in %.1f s", conv.ColdFloor.Objects, conv.ColdFloor.Seconds)

	// 3. The large cluster.
	logf("filling the cluster up to %d Ingresses and %d Secrets", o.n, o.n)
	t0 = time.Now()
	if err := b.fill(ctx, to, o.n); err != nil {
		return err
	}
	fillSeconds := time.Since(t0).Seconds()
	if d, err = b.converged(ctx, t0, 15*time.Minute); err != nil {
		return err
	}
	logf("filled in %.0f s, converged %.0f s after the first create", fillSeconds, d.Seconds())
	// Nothing checks convergence from here on: drop the tracker's copy of
	// every generated object, so that the client's heap, and its garbage
	// collections, stay small while it measures admission.
	b.stopTracker()
	b.tracker = nil
	mem := &b.rep.Memory
	mem.FillSeconds, mem.FillConvergedSeconds = fillSeconds, d.Seconds()
	if err := settled(ctx, b.controller, 2*time.Second, 5*time.Minute); err != nil {
		return err
	}
	jobs := []struct {
		p   **proc
		mem *jobMemory
	}{{&b.webhook, &mem.Webhook}, {&b.controller, &mem.Controller}}
	for _, j := range jobs {
		if j.mem.PeakRSSFill, _, err = (*j.p).memory(); err != nil {
			return err
		}
	}
	// A webhook replica that starts on the large cluster.
	logf("restarting the webhook process on the cluster of %d Ingresses", o.n)
	if err := b.startWebhook(ctx); err != nil {
		return err
	}
	if b.rep.ResyncLarge, err = b.resync(ctx); err != nil {
		return err
	}
	if err := b.admission(ctx, o.n, true); err != nil {
		return err
	}
	if err := b.pairedScale(ctx); err != nil {
		return err
	}

	// 4. Memory, before the hostile tenant's bodies in flight.
	for _, j := range jobs {
		p := *j.p
		if j.mem.PeakRSS, j.mem.RSS, err = p.memory(); err != nil {
			return err
		}
		if j.mem.FileRSS, err = pidFileRSS(p.cmd.Process.Pid); err != nil {
			return err
		}
		m, err := p.heap()
		if err != nil {
			return err
		}
		j.mem.HeapLive, j.mem.HeapInuse, j.mem.GoSys = m.HeapAlloc, m.HeapInuse, m.Sys
		if o.profile != "" {
			if err := p.heapProfile(filepath.Join(o.profile, strings.TrimRight(p.name, "-0123456789")+"-heap.pprof")); err != nil {
				return err
			}
		}
	}
	if err := b.hostile(ctx, o.n/2); err != nil {
		return err
	}
	b.rep.Cluster = b.census(ctx)
	return nil
}

// createAlone times creating fixtures [from, to), their Ingresses 8 at a
// time through the webhooks as the live convergence creates its own, while
// the reconcilers are stopped; then deletes them all again. It is the part
// of the live convergence that the plain writer does not do: on a machine
// whose CPUs the API server fills, the two take about the sum of their
// times together. from must be where the cluster's fixtures end: an
// Ingress's TLS Secret is one of the fixtures before it.
func (b *bench) createAlone(ctx context.Context, from, to int) (floorRun, error) {
	pre, ings := fixtures(from, to)
	if err := createAll(ctx, b.client, 16, pre); err != nil {
		return floorRun{}, err
	}
	cpu := b.sampleCPU(ctx)
	t0 := time.Now()
	if err := createAll(ctx, b.client, 8, ings); err != nil {
		return floorRun{}, err
	}
	r := floorRun{Objects: len(ings), Workers: 8, Seconds: time.Since(t0).Seconds(), CPU: cpu.until(time.Now())}
	return r, deleteAll(ctx, b.client, 16, append(ings, pre...))
}

// profileConvergence, with -profile, profiles the CPU of the reconcilers'
// process and of kube-apiserver for the given seconds, in the background;
// the returned function waits for both and writes them.
func (b *bench) profileConvergence(ctx context.Context, seconds int) func() error {
	if b.o.profile == "" {
		return func() error { return nil }
	}
	controller := b.controller.cpuProfile(filepath.Join(b.o.profile, "controller-converge.pprof"), seconds)
	api := make(chan error, 1)
	go func() {
		raw, err := b.api.cs.Discovery().RESTClient().Get().AbsPath("/debug/pprof/profile").
			Param("seconds", strconv.Itoa(seconds)).DoRaw(ctx)
		if err == nil {
			err = os.WriteFile(filepath.Join(b.o.profile, "apiserver-converge.pprof"), raw, 0o644)
		}
		api <- err
	}()
	return func() error { return errors.Join(controller(), <-api) }
}

// converged computes what convert makes of the cluster now and waits for
// the generated objects to equal it.
func (b *bench) converged(ctx context.Context, t0 time.Time, bound time.Duration) (time.Duration, error) {
	want, err := envtest.Desired(ctx, b.client, convert.DefaultSettings())
	if err != nil {
		return 0, err
	}
	return b.tracker.converged(ctx, b.controller, want, t0, 2*time.Second, bound)
}

// resync restarts the reconcilers on a converged cluster and waits until
// they have reconciled every Ingress and host key and settled; it reports
// the time and the write calls.
func (b *bench) resync(ctx context.Context) (resync, error) {
	if err := settled(ctx, b.controller, 2*time.Second, 5*time.Minute); err != nil {
		return resync{}, err
	}
	var ings networkingv1.IngressList
	if err := b.client.List(ctx, &ings); err != nil {
		return resync{}, err
	}
	hosts := map[string]bool{}
	for i := range ings.Items {
		for _, h := range append(convert.VirtualServiceHosts(&ings.Items[i]), convert.TLSHosts(&ings.Items[i])...) {
			hosts[h] = true
		}
	}
	r := resync{Ingresses: len(ings.Items), Hosts: len(hosts)}
	logf("resync: restarting the reconcilers on a converged cluster of %d Ingresses", r.Ingresses)
	if err := b.startController(ctx); err != nil {
		return r, err
	}
	c := b.controller
	if err := c.waitFor(ctx, "done with the resync", 10*time.Minute, func() bool {
		p, err := c.progress()
		return err == nil && p.Reconciles["ingresses"] >= float64(r.Ingresses) && p.Reconciles["hosts"] >= float64(r.Hosts) && p.Queued == 0
	}); err != nil {
		return r, err
	}
	r.Seconds = time.Since(c.started).Seconds()
	if err := settled(ctx, c, 2*time.Second, 5*time.Minute); err != nil {
		return r, err
	}
	p, err := c.progress()
	if err != nil {
		return r, err
	}
	r.Writes, r.Reads = int(p.Writes), int(p.Reads)
	peak, _, _ := c.memory()
	logf("resync: every key reconciled %.1f s after start, %d write calls, %d other API calls; peak RSS so far %.0f MiB", r.Seconds, r.Writes, r.Reads, mib(peak))
	return r, nil
}

// admission measures admission in a cluster of n Ingresses: direct to the
// floor and to both webhooks, and with api, through the API server.
func (b *bench) admission(ctx context.Context, n int, api bool) error {
	const distinct = 64
	hosts := n / 2
	validate, err := reviewBodies(distinct, hosts, false)
	if err != nil {
		return err
	}
	mutate, err := reviewBodies(distinct, hosts, true)
	if err != nil {
		return err
	}
	floorURL := b.floorAt
	ours := fmt.Sprintf("https://127.0.0.1:%d", b.port)
	type target struct {
		name, url string
		bodies    [][]byte
		pid       int
	}
	targets := []target{
		{"floor", floorURL + webhook.ValidatePath, validate, b.floor.cmd.Process.Pid},
		{"validate", ours + webhook.ValidatePath, validate, b.webhook.cmd.Process.Pid},
		{"mutate", ours + webhook.MutatePath, mutate, b.webhook.cmd.Process.Pid},
	}
	runs := map[string][]run{}
	for rep := range b.o.count {
		for _, c := range b.o.concurrency {
			for _, t := range targets {
				logf("N=%d direct %s c=%d run %d/%d", n, t.name, c, rep+1, b.o.count)
				key := fmt.Sprintf("%s/%d", t.name, c)
				// The last run at -n is profiled, for about as long as
				// the run before it took.
				var profiled func() error
				if b.o.profile != "" && rep == b.o.count-1 && n == b.o.n && t.name != "floor" {
					seconds := 5
					if rep > 0 {
						seconds = int(math.Ceil(runs[key][rep-1].Seconds))
					}
					profiled = b.webhook.cpuProfile(filepath.Join(b.o.profile, fmt.Sprintf("webhook-%s-c%d.pprof", t.name, c)), seconds)
				}
				r, err := b.direct.measure(ctx, t.url, t.bodies, c, b.o.requests, t.pid)
				if profiled != nil {
					if perr := profiled(); perr != nil {
						return perr
					}
				}
				if err != nil {
					return fmt.Errorf("direct %s c=%d: %w", t.name, c, err)
				}
				runs[key] = append(runs[key], r)
			}
		}
	}
	for _, c := range b.o.concurrency {
		floor := median(runs[fmt.Sprintf("floor/%d", c)])
		for _, t := range targets {
			rs := runs[fmt.Sprintf("%s/%d", t.name, c)]
			b.rep.Direct = append(b.rep.Direct, row{N: n, Webhook: t.name, Median: median(rs), VsFloor: ratios(median(rs), floor), Runs: rs})
		}
	}
	if !api {
		return nil
	}
	names := []string{"none", "floor", "ingressguard"}
	ings := map[string][]*networkingv1.Ingress{}
	for _, name := range names {
		for r := range distinct {
			ings[name] = append(ings[name], reviewed(r, hosts, name, false))
		}
	}
	pids := map[string]int{"none": 0, "floor": b.floor.cmd.Process.Pid, "ingressguard": b.webhook.cmd.Process.Pid}
	runs = map[string][]run{}
	for rep := range b.o.count {
		for _, c := range b.o.concurrency {
			for _, name := range names {
				logf("N=%d through the API server, webhooks %s, c=%d run %d/%d", n, name, c, rep+1, b.o.count)
				r, err := b.api.measure(ctx, ings[name], c, b.o.apiRequests, pids[name], b.apiPID)
				if err != nil {
					return fmt.Errorf("dry-run creates with webhooks %s, c=%d: %w", name, c, err)
				}
				key := fmt.Sprintf("%s/%d", name, c)
				runs[key] = append(runs[key], r)
			}
		}
	}
	for _, c := range b.o.concurrency {
		floor := median(runs[fmt.Sprintf("floor/%d", c)])
		for _, name := range names {
			rs := runs[fmt.Sprintf("%s/%d", name, c)]
			b.rep.ThroughAPI = append(b.rep.ThroughAPI, row{N: n, Webhook: name, Median: median(rs), VsFloor: ratios(median(rs), floor), Runs: rs})
		}
	}
	return nil
}

// census counts what the cluster holds at the end.
func (b *bench) census(ctx context.Context) cluster {
	var c cluster
	var ings networkingv1.IngressList
	var svcs corev1.ServiceList
	secrets := &metav1.PartialObjectMetadataList{}
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if b.client.List(ctx, &ings) == nil {
		c.Ingresses = len(ings.Items)
		hosts := map[string]bool{}
		for _, ing := range ings.Items {
			for _, r := range ing.Spec.Rules {
				hosts[r.Host] = true
			}
		}
		c.Hosts = len(hosts)
	}
	if b.client.List(ctx, secrets) == nil {
		c.Secrets = len(secrets.Items)
		for _, s := range secrets.Items {
			if s.Namespace == gatewayNS {
				c.GatewaySecrets++
			}
		}
	}
	if b.client.List(ctx, &svcs) == nil {
		c.Services = len(svcs.Items)
	}
	c.Namespaces = teams + 1
	return c
}

func settingsOf(o options) map[string]any {
	return map[string]any{
		"n": o.n, "small": o.small, "converge": o.converge, "requests": o.requests,
		"apiRequests": o.apiRequests, "count": o.count, "concurrency": o.concurrency,
	}
}

func machineNow() machineInfo {
	model, load := machine()
	return machineInfo{CPUs: runtime.NumCPU(), CPUModel: model, LoadBefore: load, Go: runtime.Version()}
}

// median takes the median of each figure of runs separately.
func median(runs []run) run {
	if len(runs) == 0 {
		return run{}
	}
	m := func(f func(run) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return run{
		Requests: runs[0].Requests, Concurrency: runs[0].Concurrency,
		Seconds:                m(func(r run) float64 { return r.Seconds }),
		PerSecond:              m(func(r run) float64 { return r.PerSecond }),
		P50:                    m(func(r run) float64 { return r.P50 }),
		P90:                    m(func(r run) float64 { return r.P90 }),
		P99:                    m(func(r run) float64 { return r.P99 }),
		Max:                    m(func(r run) float64 { return r.Max }),
		CPUPerRequest:          m(func(r run) float64 { return r.CPUPerRequest }),
		APIServerCPUPerRequest: m(func(r run) float64 { return r.APIServerCPUPerRequest }),
	}
}

func ratios(r, floor run) ratio {
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	return ratio{
		PerSecond: div(r.PerSecond, floor.PerSecond), P50: div(r.P50, floor.P50), P90: div(r.P90, floor.P90),
		P99: div(r.P99, floor.P99), Max: div(r.Max, floor.Max), CPUPerRequest: div(r.CPUPerRequest, floor.CPUPerRequest),
	}
}
