package controller

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ingressguard/ingressguard/convert"
)

// virtualServices converges, per host, the host's VirtualService.
type virtualServices struct{ *writer }

// hostRequest is the work key of a host; "" (rules without host) is "*".
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

// Reconcile implements reconcile.Reconciler for a host key.
func (r *virtualServices) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	host := hostOf(req)
	if on, _, err := r.istiodConverts(ctx); on || err != nil {
		return ctrl.Result{}, err // the Ingress reconciler reports it
	}
	var as []*convert.Analysis
	var sources []*networkingv1.Ingress
	for _, ing := range r.view.HostIngresses(host) {
		if r.ours(ing) {
			as = append(as, r.settings.RoutesOf(ing, r.view))
			sources = append(sources, ing)
		}
	}
	vs := r.settings.VirtualService(convert.NewHostTable(host, as))
	if vs == nil {
		return ctrl.Result{}, r.remove(ctx, virtualServiceGVK, convert.VirtualServiceName(host))
	}
	return ctrl.Result{}, r.put(ctx, vs, sources)
}
