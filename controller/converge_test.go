package controller_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/controller"
	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/lookup"
	"github.com/ingressguard/ingressguard/server"
	"github.com/ingressguard/ingressguard/test/envtest"
	"github.com/ingressguard/ingressguard/webhook"
)

var setLogger sync.Once

// quietLogs sends the reconcilers' logs to stderr with -v, else nowhere.
func quietLogs() {
	setLogger.Do(func() {
		out := io.Discard
		if testing.Verbose() {
			out = os.Stderr
		}
		logf.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(out)))
	})
}

// running is one reconciler process under test.
type running struct {
	// writes counts create, update, patch and delete calls, status
	// included; but not the creates refused because the name is taken,
	// which change nothing (the reconcilers create without asking first).
	writes atomic.Int64
	stop   context.CancelFunc
	done   chan struct{}
	exit   error // what the manager's Start returned, once done is closed
	// elected is closed when the replica leads (at once without leader
	// election).
	elected <-chan struct{}

	scheme   *runtime.Scheme
	mu       sync.Mutex
	byObject map[string]int // writes per objectKey

	// oversize names a VirtualService (in the gateway namespace) whose
	// creates and updates are sent grown past what etcd stores, so that
	// the API server refuses them as it refuses a host grown too large.
	oversize atomic.Pointer[string]
}

// grown is obj as a write of it is sent: obj itself, or, when it is
// r.oversize's VirtualService, a copy of it with 8,000 more routes of
// 200 bytes (1.6 MB), which etcd refuses as too large.
func (r *running) grown(obj client.Object) client.Object {
	name := r.oversize.Load()
	vs, ok := obj.(*istionet.VirtualService)
	if name == nil || !ok || vs.Namespace != gwNS || vs.Name != *name {
		return obj
	}
	vs = vs.DeepCopy()
	for i := range 8000 {
		vs.Spec.Http = append(vs.Spec.Http, &istioapi.HTTPRoute{Name: fmt.Sprintf("padding-%d-%s", i, strings.Repeat("x", 180)),
			Route: []*istioapi.HTTPRouteDestination{{Destination: &istioapi.Destination{Host: "padding"}}}})
	}
	return vs
}

// objectKey names obj for running.byObject: its kind, namespace and name.
func (r *running) objectKey(obj client.Object) string {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if gvk, err := apiutil.GVKForObject(obj, r.scheme); err == nil {
		kind = gvk.Kind
	}
	return kind + " " + client.ObjectKeyFromObject(obj).String()
}

// count records one write call to obj.
func (r *running) count(obj client.Object) {
	r.writes.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byObject[r.objectKey(obj)]++
}

// writesTo is how many write calls r made to obj (its kind, namespace and
// name) so far.
func (r *running) writesTo(obj client.Object) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byObject[r.objectKey(obj)]
}

// startReconciler runs the reconcilers in a manager of their own, as
// `ingressguard serve` does, counting every write call they make.
func startReconciler(t *testing.T, env *envtest.Env, leaderElection bool) *running {
	t.Helper()
	return startReplica(t, env, replica{leaderElection: leaderElection})
}

// replica configures startReplica.
type replica struct {
	// config reaches the API server; nil means env.Config.
	config         *rest.Config
	leaderElection bool
	// webhookPort, when not 0, serves the admission webhooks there (on
	// 127.0.0.1, with envtest's serving certificate), as every replica of
	// `ingressguard serve` does.
	webhookPort int
	// cutOff says the test cuts the replica off from the API server, so
	// its manager may end with "leader election lost".
	cutOff bool
	// coalesce is controller.Options.Coalesce.
	coalesce time.Duration
}

// startReplica is startReconciler with more choices.
func startReplica(t *testing.T, env *envtest.Env, o replica) *running {
	t.Helper()
	quietLogs()
	s := convert.DefaultSettings()
	lo := lookup.Options{GatewayNamespace: s.GatewayNamespace, CertManager: true}
	r := &running{done: make(chan struct{}), scheme: env.Scheme, byObject: map[string]int{}}
	count := r.count
	cfg := o.config
	if cfg == nil {
		cfg = env.Config
	}
	var hooks crwebhook.Server
	if o.webhookPort != 0 {
		hooks = crwebhook.NewServer(crwebhook.Options{Host: "127.0.0.1", Port: o.webhookPort, CertDir: env.Environment.WebhookInstallOptions.LocalServingCertDir})
	}
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                        env.Scheme,
		Cache:                         server.CacheOptions(s, lo, true),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		WebhookServer:                 hooks,
		LeaderElection:                o.leaderElection,
		LeaderElectionID:              "ingressguard-test",
		LeaderElectionNamespace:       s.GatewayNamespace,
		LeaseDuration:                 ptr(3 * time.Second),
		RenewDeadline:                 ptr(2 * time.Second),
		RetryPeriod:                   ptr(500 * time.Millisecond),
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: ptr(true)},
		NewClient: func(cfg *rest.Config, o client.Options) (client.Client, error) {
			c, err := client.NewWithWatch(cfg, o)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(c, interceptor.Funcs{
				Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
					err := c.Create(ctx, r.grown(obj), opts...)
					if !apierrors.IsAlreadyExists(err) {
						count(obj)
					}
					return err
				},
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					count(obj)
					return c.Update(ctx, r.grown(obj), opts...)
				},
				Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
					count(obj)
					return c.Patch(ctx, obj, p, opts...)
				},
				Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
					count(obj)
					return c.Delete(ctx, obj, opts...)
				},
				SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
					count(obj)
					return c.SubResource(sub).Update(ctx, obj, opts...)
				},
				SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
					count(obj)
					return c.SubResource(sub).Patch(ctx, obj, p, opts...)
				},
			}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.elected = mgr.Elected()
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = func() { cancel(); <-r.done }
	if err := controller.IndexFields(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	informers, err := lookup.New(ctx, mgr.GetCache(), lo, logf.Log)
	if err != nil {
		t.Fatal(err)
	}
	if err := controller.Setup(mgr, controller.Options{Settings: s, View: informers, Coalesce: o.coalesce}); err != nil {
		t.Fatal(err)
	}
	if hooks != nil {
		webhook.Register(mgr, s, informers)
	}
	go func() {
		defer close(r.done)
		r.exit = mgr.Start(ctx)
		if r.exit != nil && !o.cutOff {
			t.Errorf("manager: %v", r.exit)
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func ptr[T any](v T) *T { return &v }

const gwNS = "istio-system"

// reconcileCounts is how many reconciles each controller has completed so
// far, for reconciledSince.
func reconcileCounts(t *testing.T) map[string]float64 {
	t.Helper()
	return map[string]float64{
		"ingresses": reconciles(t, "ingresses"),
		"hosts":     reconciles(t, "hosts"),
	}
}

// reconciledSince waits until each controller has completed another
// reconcile since before (reconcileCounts). When the test knows the one key
// a controller can have been given since, that reconcile, and any write it
// made, is then provably over: the sync point of "nothing was written",
// instead of watching for a while.
func reconciledSince(t *testing.T, what string, before map[string]float64) {
	t.Helper()
	envtest.Eventually(t, what, func() error {
		for name, n := range before {
			if reconciles(t, name) <= n {
				return fmt.Errorf("the %s controller has completed no reconcile since", name)
			}
		}
		return nil
	})
}

type path struct {
	path, pathType, service string
	port                    int32
	portName                string
}

func ingress(ns, name string, created time.Time, host string, paths ...path) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       networkingv1.IngressSpec{IngressClassName: ptr("istio")},
	}
	var ps []networkingv1.HTTPIngressPath
	for _, p := range paths {
		pt := networkingv1.PathType(p.pathType)
		ps = append(ps, networkingv1.HTTPIngressPath{Path: p.path, PathType: &pt, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: p.service, Port: networkingv1.ServiceBackendPort{Number: p.port, Name: p.portName}}}})
	}
	ing.Spec.Rules = []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: ps}}}}
	return ing
}

func createNamespace(t *testing.T, env *envtest.Env, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

func virtualService(env *envtest.Env, host string) (*istionet.VirtualService, error) {
	vs := &istionet.VirtualService{}
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: gwNS, Name: convert.ObjectName(host)}, vs)
	return vs, err
}

func gateway(env *envtest.Env, host string) (*istionet.Gateway, error) {
	gw := &istionet.Gateway{}
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: gwNS, Name: convert.ObjectName(host)}, gw)
	return gw, err
}

// routes renders a VirtualService's routes as "match -> destination:port".
func routes(vs *istionet.VirtualService) string {
	var out []string
	for _, r := range vs.Spec.Http {
		var ms []string
		for _, m := range r.Match {
			if e := m.Uri.GetExact(); e != "" {
				ms = append(ms, "="+e)
			} else {
				ms = append(ms, m.Uri.GetPrefix()+"*")
			}
		}
		if len(r.Route) == 0 {
			out = append(out, fmt.Sprintf("%s->%d", strings.Join(ms, ","), r.GetDirectResponse().GetStatus()))
			continue
		}
		d := r.Route[0].Destination
		out = append(out, fmt.Sprintf("%s->%s:%d", strings.Join(ms, ","), strings.SplitN(d.Host, ".", 2)[0], d.Port.GetNumber()))
	}
	return strings.Join(out, " ")
}

func wantRoutes(env *envtest.Env, host, want string) func() error {
	return func() error {
		vs, err := virtualService(env, host)
		if err != nil {
			return err
		}
		if got := routes(vs); got != want {
			return fmt.Errorf("routes of %s = %q, want %q", host, got, want)
		}
		return nil
	}
}

func gone(obj func() error) func() error {
	return func() error {
		if err := obj(); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there (err %v)", err)
		}
		return nil
	}
}

// warningEvents lists the Warning event notes on an Ingress with a reason.
func warningEvents(env *envtest.Env, ns, name, reason string) ([]string, error) {
	var list eventsv1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Ingress" && e.Regarding.Name == name && e.Type == corev1.EventTypeWarning && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out, nil
}

// TestSeedMatchesConvert: the seed's Ingress produces a Gateway and a
// VirtualService that the API server accepts under Istio's CRDs, equal to
// the golden output of `ingressguard convert` for the same input.
func TestSeedMatchesConvert(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	startReconciler(t, env, false)
	ctx := context.Background()
	root, _ := envtest.RepoRoot()
	dir := filepath.Join(root, "convert", "testdata", "golden", "seed-annotation")
	raw, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var seed networkingv1.Ingress
	if err := yaml.Unmarshal(raw, &seed); err != nil {
		t.Fatal(err)
	}
	seed.Namespace = "default"
	if err := env.Client.Create(ctx, &seed); err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join(dir, "output.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(golden), "\n---\n")
	var wantGW istionet.Gateway
	var wantVS istionet.VirtualService
	if err := yaml.Unmarshal([]byte(docs[0]), &wantGW); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(docs[1]), &wantVS); err != nil {
		t.Fatal(err)
	}
	envtest.Eventually(t, "the Gateway equals convert's", func() error {
		var gw istionet.Gateway
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(&wantGW), &gw); err != nil {
			return err
		}
		if !proto.Equal(&gw.Spec, &wantGW.Spec) || !contains(gw.Labels, wantGW.Labels) || !contains(gw.Annotations, wantGW.Annotations) {
			return fmt.Errorf("live Gateway %v differs from golden %v", &gw.Spec, &wantGW.Spec)
		}
		return nil
	})
	envtest.Eventually(t, "the VirtualService equals convert's", func() error {
		var vs istionet.VirtualService
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(&wantVS), &vs); err != nil {
			return err
		}
		if !proto.Equal(&vs.Spec, &wantVS.Spec) || !contains(vs.Labels, wantVS.Labels) || !contains(vs.Annotations, wantVS.Annotations) {
			return fmt.Errorf("live VirtualService %v differs from golden %v", &vs.Spec, &wantVS.Spec)
		}
		return nil
	})
}

func contains(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
