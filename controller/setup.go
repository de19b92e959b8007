package controller

import (
	"context"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/internal/lazylog"
)

// Options configure the reconcilers.
type Options struct {
	Settings convert.Settings
	// View answers convert's lookups (lookup.Informers in production).
	View convert.View
	// Client writes; nil means the manager's client. Tests wrap it to count
	// write calls.
	Client client.Client
	// Events records events on Ingresses; nil means the manager's recorder.
	Events events.EventRecorder
	// Workers is how many keys each reconciler works on at once; 0 means
	// DefaultWorkers.
	Workers int
}

// DefaultWorkers is how many keys each reconciler works on at once by
// default. Keys never share an object (an Ingress has its Gateway and
// status, a host its VirtualService) and a reconcile spends most of its
// time waiting for the API server to answer its writes, so one worker
// bounds convergence by write latency. The load program (test/load)
// measures convergence; more workers than four gained nothing there.
const DefaultWorkers = 4

// Setup adds the Gateway/status reconciler (keyed by Ingress) and the
// VirtualService reconciler (keyed by host) to mgr. The manager's cache must
// have been built with CacheObjects, and IndexFields must have been called.
// Both run only on the leader when the manager elects one.
func Setup(mgr manager.Manager, o Options) error {
	w := &writer{settings: o.Settings, view: o.View, client: o.Client, api: mgr.GetAPIReader(), events: o.Events}
	if w.client == nil {
		w.client = mgr.GetClient()
	}
	if w.events == nil {
		w.events = mgr.GetEventRecorder("ingressguard")
	}
	m := mapper{w}
	workers := controller.Options{MaxConcurrentReconciles: o.Workers}
	if workers.MaxConcurrentReconciles == 0 {
		workers.MaxConcurrentReconciles = DefaultWorkers
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("gateways").
		WithOptions(workers).
		WithLogConstructor(logConstructor(mgr.GetLogger(), "gateways")).
		For(&networkingv1.Ingress{}).
		WatchesMetadata(metadataOf(gatewayGVK), handler.EnqueueRequestsFromMapFunc(m.gatewaySource)).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(m.allIngressesIfGatewayService)).
		Watches(&networkingv1.IngressClass{}, handler.EnqueueRequestsFromMapFunc(m.allIngresses)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(m.allIngressesIfMesh)).
		Complete(&gateways{w})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("virtualservices").
		WithOptions(workers).
		WithLogConstructor(logConstructor(mgr.GetLogger(), "virtualservices")).
		Watches(&networkingv1.Ingress{}, handler.EnqueueRequestsFromMapFunc(m.ingressHosts)).
		WatchesMetadata(metadataOf(virtualServiceGVK), handler.EnqueueRequestsFromMapFunc(m.virtualServiceHost)).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(m.backendHosts)).
		Watches(&networkingv1.IngressClass{}, handler.EnqueueRequestsFromMapFunc(m.allHosts)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(m.allHostsIfMesh)).
		Complete(&virtualServices{w})
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
type mapper struct{ w *writer }

func (m mapper) gatewaySource(_ context.Context, o client.Object) []reconcile.Request {
	ns, name, ok := strings.Cut(o.GetAnnotations()[convert.AnnotationIngress], "/")
	if !ok || ns == "" || name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

func (m mapper) virtualServiceHost(_ context.Context, o client.Object) []reconcile.Request {
	host, ok := o.GetAnnotations()[convert.AnnotationHost]
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: host}}}
}

func (m mapper) ingressHosts(_ context.Context, o client.Object) []reconcile.Request {
	var out []reconcile.Request
	for _, h := range convert.VirtualServiceHosts(o.(*networkingv1.Ingress)) {
		out = append(out, hostRequest(h))
	}
	return out
}

func (m mapper) backendHosts(ctx context.Context, o client.Object) []reconcile.Request {
	var list networkingv1.IngressList
	if err := m.w.client.List(ctx, &list, client.MatchingFields{BackendIndex: o.GetNamespace() + "/" + o.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	return hostsOf(list.Items)
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

func (m mapper) allHosts(ctx context.Context, _ client.Object) []reconcile.Request {
	var list networkingv1.IngressList
	if err := m.w.client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	return hostsOf(list.Items)
}

func hostsOf(ings []networkingv1.Ingress) []reconcile.Request {
	seen := map[string]bool{}
	var out []reconcile.Request
	for i := range ings {
		for _, h := range convert.VirtualServiceHosts(&ings[i]) {
			if !seen[h] {
				seen[h] = true
				out = append(out, hostRequest(h))
			}
		}
	}
	return out
}
