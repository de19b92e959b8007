package controller

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/internal/lazylog"
)

// View is what the reconcilers read besides the objects they write:
// convert's view of the cluster, and every host key (lookup.Informers).
type View interface {
	convert.View
	// HostKeys returns every host that some Ingress's
	// convert.VirtualServiceHosts or convert.TLSHosts name.
	HostKeys() []string
	// DestinationKeys returns every Service ("namespace/name") that some
	// Ingress's convert.DestinationServices name.
	DestinationKeys() []string
}

// Options configure the reconcilers.
type Options struct {
	Settings convert.Settings
	// View answers convert's lookups (lookup.Informers in production).
	View View
	// Client writes; nil means the manager's client. Tests wrap it to count
	// write calls.
	Client client.Client
	// Events records events on Ingresses; nil means the manager's recorder.
	Events events.EventRecorder
	// Workers is how many keys the host and destination reconcilers each
	// work on at once; 0 means DefaultWorkers. The Ingress reconciler
	// works on one at a time (see Setup).
	Workers int
	// Coalesce is how long the host reconciler waits after an Ingress
	// changes; 0 means DefaultCoalesce.
	Coalesce time.Duration
}

// DefaultWorkers is how many keys the host and destination reconcilers
// each work on at once by default. Keys never share an object (an
// Ingress has its events and status, a host its Gateway and
// VirtualService) and a reconcile spends
// most of its time waiting for the API server to answer its writes, so
// one worker bounds convergence by write latency. The load program
// (test/load) measures convergence; more workers than four gained nothing
// there.
const DefaultWorkers = 4

// Setup adds the Ingress reconciler (events and status, keyed by Ingress)
// and the host reconciler (Gateway and VirtualService, keyed by host) to
// mgr. The manager's cache must have been built with CacheObjects, and
// IndexFields must have been called. Both run only on the leader when the
// manager elects one.
func Setup(mgr manager.Manager, o Options) error {
	w := &writer{settings: o.Settings, view: o.View, client: o.Client, api: mgr.GetAPIReader(), events: o.Events, routed: newRouted()}
	if w.client == nil {
		w.client = mgr.GetClient()
	}
	if w.events == nil {
		w.events = mgr.GetEventRecorder("ingressguard")
	}
	m := mapper{w: w, keys: o.View}
	workers := controller.Options{MaxConcurrentReconciles: o.Workers, RateLimiter: retries()}
	if workers.MaxConcurrentReconciles == 0 {
		workers.MaxConcurrentReconciles = DefaultWorkers
	}
	if o.Coalesce == 0 {
		o.Coalesce = DefaultCoalesce
	}
	// The Ingress reconciler works on one key at a time, so that in a
	// burst its writes (a status patch per Ingress, events) leave most of
	// the API server to the writes that route: with as many workers as
	// the host reconciler, its 1,000 status patches were about half of the
	// writes while the load program's 1,000 Ingresses converged.
	statusWorkers := workers
	statusWorkers.MaxConcurrentReconciles = 1
	err := ctrl.NewControllerManagedBy(mgr).
		Named("ingresses").
		WithOptions(statusWorkers).
		WithLogConstructor(logConstructor(mgr.GetLogger(), "ingresses")).
		For(&networkingv1.Ingress{}).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(m.allIngressesIfGatewayService)).
		Watches(&networkingv1.IngressClass{}, handler.EnqueueRequestsFromMapFunc(m.allIngresses)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(m.allIngressesIfMesh)).
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			// The host reconciler queues here the Ingresses whose status
			// waited for their routes (routed.reconciled).
			w.routed.mu.Lock()
			w.routed.queue = q
			w.routed.mu.Unlock()
			return nil
		})).
		Complete(&ingresses{w})
	if err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("hosts").
		WithOptions(workers).
		WithLogConstructor(logConstructor(mgr.GetLogger(), "hosts")).
		Watches(&networkingv1.Ingress{}, coalesce(handler.EnqueueRequestsFromMapFunc(m.ingressHosts), o.Coalesce), builder.WithPredicates(notStatusOnly))
	for _, k := range hostKinds {
		kind := gvkOf(k).Kind
		b = b.Watches(emptyLike(k), handler.EnqueueRequestsFromMapFunc(m.generatedHost(kind)), builder.WithPredicates(m.notEcho(kind)))
	}
	err = b.
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(m.backendHosts)).
		Watches(&networkingv1.IngressClass{}, handler.EnqueueRequestsFromMapFunc(m.allHosts)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(m.allHostsIfMesh)).
		Complete(&hosts{w})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("destinations").
		WithOptions(workers).
		WithLogConstructor(logConstructor(mgr.GetLogger(), "destinations")).
		Watches(&networkingv1.Ingress{}, handler.EnqueueRequestsFromMapFunc(m.ingressDestinations), builder.WithPredicates(notStatusOnly)).
		Watches(&istionet.DestinationRule{}, handler.EnqueueRequestsFromMapFunc(m.generatedDestination), builder.WithPredicates(m.notEcho(destinationRuleGVK.Kind))).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(m.serviceDestination)).
		Watches(&networkingv1.IngressClass{}, handler.EnqueueRequestsFromMapFunc(m.allDestinations)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(m.allDestinationsIfMesh)).
		Complete(&destinations{w})
}

// DefaultCoalesce is how long the host reconciler waits by default after
// an Ingress changes before it reconciles the Ingress's hosts, so that a
// burst of changes to one host's Ingresses (a kubectl apply or a Helm
// release of several, each host shared by a few) is written once, not
// once per Ingress. The load program (test/load) creates two Ingresses per
// host, 8 at a time: without the wait, most hosts were written twice.
const DefaultCoalesce = 100 * time.Millisecond

// coalesce makes h, a handler of Ingress events, enqueue its keys wait
// after the event; but those of the initial list at once, which has every
// Ingress already.
func coalesce(h handler.EventHandler, wait time.Duration) handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.IsInInitialList {
				h.Create(ctx, e, q)
				return
			}
			h.Create(ctx, e, delayed{q, wait})
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Update(ctx, e, delayed{q, wait})
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Delete(ctx, e, delayed{q, wait})
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			h.Generic(ctx, e, delayed{q, wait})
		},
	}
}

// delayed is a queue whose Add adds wait later. A key already waiting
// keeps the earlier time, so that a burst waits after its first change,
// not after its last.
type delayed struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	wait time.Duration
}

func (q delayed) Add(r reconcile.Request) { q.AddAfter(r, q.wait) }

// notStatusOnly lets through every Ingress event but an update of the
// status alone (such as the Ingress reconciler's own status patch), which
// changes nothing the host and destination reconcilers write: at 1,000
// new Ingresses, each reconciled its host again for nothing. An update
// that changes nothing at all (a resync) goes through.
var notStatusOnly = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	old, ok := e.ObjectOld.(*networkingv1.Ingress)
	ing, ok2 := e.ObjectNew.(*networkingv1.Ingress)
	if !ok || !ok2 || old.ResourceVersion == ing.ResourceVersion {
		return true
	}
	return old.UID != ing.UID || !old.DeletionTimestamp.Equal(ing.DeletionTimestamp) ||
		!maps.Equal(old.Labels, ing.Labels) || !maps.Equal(old.Annotations, ing.Annotations) ||
		!equality.Semantic.DeepEqual(old.Spec, ing.Spec)
}}

// notEcho lets through every event of a generated object of that kind
// but the add or update that brings this process's own last write of it
// (writer.echo): the write was made for the current state of its key, so
// the key has nothing more to do. Each new host's objects made one such
// reconcile each, often while the other object was not in the cache yet.
func (m mapper) notEcho(kind string) predicate.Funcs {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return !m.w.echo(kind, e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool { return !m.w.echo(kind, e.ObjectNew) },
	}
}

// ingressDestinations maps an Ingress to the Services whose
// DestinationRule its annotations shape; an update maps both the old and
// the new Ingress, so removing an annotation reaches the rule.
func (m mapper) ingressDestinations(_ context.Context, o client.Object) []reconcile.Request {
	services := convert.DestinationServices(o.(*networkingv1.Ingress))
	out := make([]reconcile.Request, 0, len(services))
	for _, svc := range services {
		out = append(out, destinationRequest(svc))
	}
	return out
}

// generatedDestination maps a generated DestinationRule to its Service's
// key, or, when its name is not its Service's, to an orphan key.
func (m mapper) generatedDestination(_ context.Context, o client.Object) []reconcile.Request {
	host := o.GetAnnotations()[convert.AnnotationHost]
	if svc, ok := serviceOf(m.w.settings, host); ok && o.GetName() == convert.DestinationRuleName(host) {
		return []reconcile.Request{destinationRequest(svc)}
	}
	return []reconcile.Request{orphanDestination(o.GetName())}
}

// serviceDestination maps a Service that Ingresses with DestinationRule
// annotations route to (a named port may have moved) to its key.
func (m mapper) serviceDestination(_ context.Context, o client.Object) []reconcile.Request {
	svc := o.GetNamespace() + "/" + o.GetName()
	if len(m.w.view.DestinationIngresses(svc)) == 0 {
		return nil
	}
	return []reconcile.Request{destinationRequest(svc)}
}

func (m mapper) allDestinations(context.Context, client.Object) []reconcile.Request {
	return requests(m.keys.DestinationKeys(), destinationRequest)
}

// requests are the work items of keys.
func requests(keys []string, request func(string) reconcile.Request) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(keys))
	for _, k := range keys {
		out = append(out, request(k))
	}
	return out
}

func (m mapper) allDestinationsIfMesh(ctx context.Context, o client.Object) []reconcile.Request {
	if !m.isMesh(o) {
		return nil
	}
	return m.allDestinations(ctx, o)
}

// MaxRetryDelay is the longest a failed key waits before it is tried
// again. controller-runtime's default doubles the wait up to 1,000 s, so
// a key that failed throughout a long write outage (etcd full, the API
// server overloaded) could wait as long again after the outage ended;
// TestWriteOutage measures the cost of the backoff.
const MaxRetryDelay = 30 * time.Second

// retries is controller-runtime's default rate limiter (per key, 5 ms
// doubling; overall, 10 per second with bursts of 100) with the per-key
// wait capped at MaxRetryDelay.
func retries() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, MaxRetryDelay),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

// logConstructor gives each reconcile a logger with the controller's name
// and the key, as controller-runtime's default does, but lazy: at 10,000
// Ingresses a start reconciles 15,000 keys that log nothing, and eager
// loggers made a tenth of the start's garbage.
func logConstructor(base logr.Logger, controller string) func(*reconcile.Request) logr.Logger {
	log := lazylog.New(base).WithValues("controller", controller)
	return func(req *reconcile.Request) logr.Logger {
		if req == nil {
			return log
		}
		return log.WithValues("namespace", req.Namespace, "name", req.Name)
	}
}

// mapper turns watch events into work keys.
type mapper struct {
	w    *writer
	keys View
}

// generatedHost maps a generated object of that kind to its host's key,
// or, when its name is not its host's, to an orphan key; and to the key
// of a host whose write it refused for holding that host's name (a
// collision), so that the host is written once the object goes.
func (m mapper) generatedHost(kind string) handler.MapFunc {
	return func(_ context.Context, o client.Object) []reconcile.Request {
		out := make([]reconcile.Request, 0, 2)
		host, ok := o.GetAnnotations()[convert.AnnotationHost]
		if ok && o.GetName() == convert.ObjectName(host) {
			out = append(out, hostRequest(host))
		} else {
			out = append(out, orphanRequest(kind, o.GetName()))
		}
		if blocked, ok := m.w.blocked.Load(kind + "/" + o.GetName()); ok {
			out = append(out, hostRequest(blocked.(string)))
		}
		return out
	}
}

// ingressHosts maps an Ingress to the hosts whose objects it has a part in.
func (m mapper) ingressHosts(_ context.Context, o client.Object) []reconcile.Request {
	return m.hostsOf([]*networkingv1.Ingress{o.(*networkingv1.Ingress)})
}

func (m mapper) backendHosts(ctx context.Context, o client.Object) []reconcile.Request {
	var list networkingv1.IngressList
	if err := m.w.client.List(ctx, &list, client.MatchingFields{BackendIndex: o.GetNamespace() + "/" + o.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	ings := make([]*networkingv1.Ingress, len(list.Items))
	for i := range list.Items {
		ings[i] = &list.Items[i]
	}
	return m.hostsOf(ings)
}

func (m mapper) isGatewayService(o client.Object) bool {
	return o.GetNamespace() == m.w.settings.GatewayNamespace && o.GetName() == m.w.settings.IngressService
}

func (m mapper) isMesh(o client.Object) bool {
	return o.GetNamespace() == m.w.settings.GatewayNamespace && o.GetName() == MeshConfigMap
}

func (m mapper) allIngressesIfGatewayService(ctx context.Context, o client.Object) []reconcile.Request {
	if !m.isGatewayService(o) {
		return nil
	}
	return m.allIngresses(ctx, o)
}

func (m mapper) allIngressesIfMesh(ctx context.Context, o client.Object) []reconcile.Request {
	if !m.isMesh(o) {
		return nil
	}
	return m.allIngresses(ctx, o)
}

func (m mapper) allHostsIfMesh(ctx context.Context, o client.Object) []reconcile.Request {
	if !m.isMesh(o) {
		return nil
	}
	return m.allHosts(ctx, o)
}

// allIngresses enqueues every Ingress: for the rare cluster-wide changes
// (an IngressClass, the mesh config, the gateway Service's addresses),
// which a start sees as adds. The mappers only read what they list, so
// they list without copies: deep copies of every Ingress, several lists
// at once, would be the peak of a start's memory.
func (m mapper) allIngresses(ctx context.Context, _ client.Object) []reconcile.Request {
	var list networkingv1.IngressList
	if err := m.w.client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

func (m mapper) allHosts(context.Context, client.Object) []reconcile.Request {
	return requests(m.keys.HostKeys(), hostRequest)
}

// hostsOf returns the keys of the hosts whose Gateway and VirtualService
// ings have a part in: the hosts they name (convert.VirtualServiceHosts
// and convert.TLSHosts) and, when they name "" or a wildcard, every host
// whose convert.Dependencies include one of those.
func (m mapper) hostsOf(ings []*networkingv1.Ingress) []reconcile.Request {
	named := map[string]bool{}
	broad := false
	for _, ing := range ings {
		for _, hs := range [][]string{convert.VirtualServiceHosts(ing), convert.TLSHosts(ing)} {
			for _, h := range hs {
				named[h] = true
				broad = broad || h == "" || strings.HasPrefix(h, "*")
			}
		}
	}
	out := make([]reconcile.Request, 0, len(named))
	for h := range named {
		out = append(out, hostRequest(h))
	}
	if !broad {
		return out
	}
	for _, k := range m.keys.HostKeys() {
		if named[k] {
			continue
		}
		for _, d := range convert.Dependencies(k) {
			if named[d] {
				out = append(out, hostRequest(k))
				break
			}
		}
	}
	return out
}
