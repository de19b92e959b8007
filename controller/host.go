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

// hosts converges, per host, the host's Gateway and VirtualService; and
// deletes generated objects whose name is not their host's (those of an
// older version of ingressguard).
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
	if gw == nil {
		if err := r.remove(ctx, virtualServiceGVK, convert.ObjectName(host)); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, r.remove(ctx, gatewayGVK, convert.ObjectName(host))
	}
	sources := v.Ingresses()
	// The Gateway first: a VirtualService bound to a Gateway that does not
	// exist yet is not served, and istiod would say so.
	if err := r.put(ctx, gw, sources); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.put(ctx, vs, sources)
}

// generatedGVK is the GroupVersionKind of a generated kind.
func generatedGVK(kind string) schema.GroupVersionKind {
	if kind == gatewayGVK.Kind {
		return gatewayGVK
	}
	return virtualServiceGVK
}

// viewSources are convert.Sources from the writer's view: the Ingresses of
// ours, each analysed once per reconcile, without what their namespace
// may not serve (convert.Analysis.Contributes, convert.Settings.ServesTLS).
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
		if !s.w.ours(ing) {
			continue
		}
		// An Ingress whose namespace may not serve key's hosts (another
		// owns them) is left out; it is told by the Ingress reconciler.
		if a := s.w.settings.RoutesOf(ing, s.w.view); a.Contributes(key) {
			as = append(as, a)
		}
	}
	s.routing[key] = as
	return as
}

func (s *viewSources) TLS(host string) []*networkingv1.Ingress {
	var out []*networkingv1.Ingress
	for _, ing := range s.w.view.TLSIngresses(host) {
		if s.w.ours(ing) && s.w.settings.ServesTLS(ing, host, s.w.view) {
			out = append(out, ing)
		}
	}
	return out
}
