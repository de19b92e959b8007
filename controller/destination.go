package controller

import (
	"context"
	"slices"
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
		obj, err := r.cached(ctx, destinationRuleGVK, req.Name)
		if obj == nil || err != nil {
			return ctrl.Result{}, err
		}
		if recorded, ours := ownerOf(obj); !ours || obj.GetName() == convert.DestinationRuleName(recorded) {
			return ctrl.Result{}, nil // not ours, or its Service's key decides
		}
		return ctrl.Result{}, r.delete(ctx, destinationRuleGVK, obj)
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
	drs, conflicts := r.settings.DestinationRules(as)
	r.tellConflicts(req.String(), as, conflicts)
	for _, dr := range drs {
		if dr.Spec.Host == host {
			return ctrl.Result{}, ignoreHeld(r.put(ctx, dr, sources))
		}
	}
	obj, err := r.cached(ctx, destinationRuleGVK, convert.DestinationRuleName(host))
	if obj == nil || err != nil || !records(obj, host) {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.delete(ctx, destinationRuleGVK, obj)
}

// tellConflicts reports the DestinationRule conflicts of Service svc as
// Warning events on the Ingresses that lose them. Admission warns of a
// conflict only the Ingress it admits, when it admits it; this tells the
// loser whenever the conflict arises (an Ingress admitted while the
// webhook was down, an older one back). An Ingress told before that no
// longer routes to svc (or is gone) is forgotten, so that a conflict of
// its own later is told again.
func (r *destinations) tellConflicts(svc string, as []*convert.Analysis, conflicts map[*convert.Analysis][]convert.Warning) {
	var told []string
	for _, a := range as {
		var messages []string
		for _, w := range conflicts[a] {
			messages = append(messages, w.String())
		}
		r.report(a.Ingress, destinationKey(a.Key().String(), svc), ReasonWarning, messages)
		if len(messages) > 0 {
			told = append(told, a.Key().String())
		}
	}
	if before, ok := r.conflicted.Load(svc); ok {
		for _, ing := range before.([]string) {
			if !slices.Contains(told, ing) {
				r.forget(destinationKey(ing, svc))
			}
		}
	}
	if len(told) > 0 {
		r.conflicted.Store(svc, told)
	} else {
		r.conflicted.Delete(svc)
	}
}

// destinationKey is the event key of what the DestinationRule of Service
// svc reports on Ingress ing (both "namespace/name").
func destinationKey(ing, svc string) string { return "destination/" + ing + "/" + svc }

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
