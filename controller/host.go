package controller

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ingressguard/ingressguard/convert"
)

// hosts converges, per host, the host's Gateway, VirtualService and
// AuthorizationPolicy (the source ranges of its Ingresses); and deletes
// generated objects whose name is not their host's (those of an older
// version of ingressguard).
type hosts struct{ *writer }

// hostRequest is the work key of a host; "" (the "*" host) is "*".
func hostRequest(host string) reconcile.Request {
	if host == "" {
		host = "*"
	}
	return reconcile.Request{NamespacedName: client.ObjectKey{Name: host}}
}

// hostOf undoes hostRequest.
func hostOf(req reconcile.Request) string {
	if req.Name == "*" {
		return ""
	}
	return req.Name
}

// orphanRequest is the work key of a generated object of that kind whose
// name is not its host's: the kind goes where a host key has none.
func orphanRequest(kind, name string) reconcile.Request {
	return reconcile.Request{NamespacedName: client.ObjectKey{Namespace: kind, Name: name}}
}

// Reconcile implements reconcile.Reconciler for a host key or an orphan.
func (r *hosts) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Namespace != "" {
		return ctrl.Result{}, r.remove(ctx, generatedGVK(req.Namespace), req.Name)
	}
	host := hostOf(req)
	if on, _, err := r.istiodConverts(ctx); on || err != nil {
		return ctrl.Result{}, err // the Ingress reconciler reports it
	}
	v := convert.NewVirtualHost(host, &viewSources{w: r.writer, routing: map[string][]*convert.Analysis{}})
	gw, vs := r.settings.Gateway(v), r.settings.VirtualService(v)
	name := convert.ObjectName(host)
	if gw == nil {
		// The routes go before the policy that restricts them.
		for _, gvk := range []schema.GroupVersionKind{virtualServiceGVK, gatewayGVK, authorizationPolicyGVK} {
			if err := r.remove(ctx, gvk, name); err != nil {
				return ctrl.Result{}, err
			}
		}
		return ctrl.Result{}, nil
	}
	sources := v.Ingresses()
	// The AuthorizationPolicy first, so that a restricted route is never
	// served open, even for a moment; and removed after the routes.
	ap := r.settings.AuthorizationPolicy(v)
	if ap != nil {
		if err := r.put(ctx, ap, sources); err != nil {
			return ctrl.Result{}, err
		}
		switch ours, err := r.isOurs(ctx, authorizationPolicyGVK, name); {
		case err != nil:
			return ctrl.Result{}, err
		case !ours:
			// A policy of that name that is not ours (put reported the
			// collision): the routes it should restrict are not served.
			return ctrl.Result{}, r.remove(ctx, virtualServiceGVK, name)
		}
	}
	// The Gateway before the VirtualService: a VirtualService bound to a
	// Gateway that does not exist yet is not served, and istiod would say
	// so.
	if err := r.put(ctx, gw, sources); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.put(ctx, vs, sources); err != nil {
		return ctrl.Result{}, err
	}
	if ap == nil {
		return ctrl.Result{}, r.remove(ctx, authorizationPolicyGVK, name)
	}
	return ctrl.Result{}, nil
}

// isOurs reports whether the object of that kind and name in the gateway
// namespace exists and is labelled as ours: from the cache, which holds
// only ours, else from the API server (the cache may not have a new
// object yet).
func (r *hosts) isOurs(ctx context.Context, gvk schema.GroupVersionKind, name string) (bool, error) {
	key := client.ObjectKey{Namespace: r.settings.GatewayNamespace, Name: name}
	if err := r.client.Get(ctx, key, metadataOf(gvk)); err == nil {
		return true, nil
	}
	live := metadataOf(gvk)
	if err := r.api.Get(ctx, key, live); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return live.GetLabels()[convert.LabelManagedBy] == convert.ManagedBy, nil
}

// generatedGVK is the GroupVersionKind of a generated kind.
func generatedGVK(kind string) schema.GroupVersionKind {
	for _, gvk := range generatedGVKs {
		if gvk.Kind == kind {
			return gvk
		}
	}
	panic("controller: " + kind + " is not a generated kind")
}

// viewSources are convert.Sources from the writer's view: the Ingresses of
// ours, each analysed once per reconcile.
type viewSources struct {
	w       *writer
	routing map[string][]*convert.Analysis
}

func (s *viewSources) Routing(key string) []*convert.Analysis {
	if as, ok := s.routing[key]; ok {
		return as
	}
	var as []*convert.Analysis
	for _, ing := range s.w.view.HostIngresses(key) {
		if s.w.ours(ing) {
			as = append(as, s.w.settings.RoutesOf(ing, s.w.view))
		}
	}
	s.routing[key] = as
	return as
}

func (s *viewSources) TLS(host string) []*networkingv1.Ingress {
	var out []*networkingv1.Ingress
	for _, ing := range s.w.view.TLSIngresses(host) {
		if s.w.ours(ing) {
			out = append(out, ing)
		}
	}
	return out
}
