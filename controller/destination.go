package controller

import (
	"context"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ingressguard/ingressguard/convert"
)

// destinations converges, per backend Service, the DestinationRule that
// the ingress-nginx annotations of the Ingresses routing to it ask for
// (convert.DestinationRules); and deletes generated DestinationRules whose
// name is not their Service's.
type destinations struct{ *writer }

// destinationRequest is the work key of Service namespace/name ("namespace/name").
func destinationRequest(service string) reconcile.Request {
	ns, name, _ := strings.Cut(service, "/")
	return reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}
}

// orphanDestination is the work key of a generated DestinationRule whose
// name is not its Service's: no Service has an empty namespace.
func orphanDestination(name string) reconcile.Request {
	return reconcile.Request{NamespacedName: client.ObjectKey{Name: name}}
}

// Reconcile implements reconcile.Reconciler for a Service or an orphan.
func (r *destinations) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Namespace == "" {
		return ctrl.Result{}, r.remove(ctx, destinationRuleGVK, req.Name)
	}
	if on, _, err := r.istiodConverts(ctx); on || err != nil {
		return ctrl.Result{}, err // the Ingress reconciler reports it
	}
	host := r.settings.ServiceHost(req.Namespace, req.Name)
	var as []*convert.Analysis
	var sources []*networkingv1.Ingress
	for _, ing := range r.view.DestinationIngresses(req.Namespace + "/" + req.Name) {
		if r.ours(ing) {
			as = append(as, r.settings.RoutesOf(ing, r.view))
			sources = append(sources, ing)
		}
	}
	drs, _ := r.settings.DestinationRules(as) // admission and the CLI warn of conflicts
	for _, dr := range drs {
		if dr.Spec.Host == host {
			return ctrl.Result{}, r.put(ctx, dr, sources)
		}
	}
	return ctrl.Result{}, r.remove(ctx, destinationRuleGVK, convert.DestinationRuleName(host))
}

// serviceOf is the Service ("namespace/name") of a DestinationRule's host
// (name.namespace.svc.<domain suffix>), or false.
func serviceOf(s convert.Settings, host string) (string, bool) {
	rest, ok := strings.CutSuffix(host, ".svc."+s.DomainSuffix)
	if !ok {
		return "", false
	}
	name, ns, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(ns, ".") {
		return "", false
	}
	return ns + "/" + name, true
}
