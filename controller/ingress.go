package controller

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// ingresses converges, per Ingress, its events and its status; the hosts
// reconciler writes what serves it.
type ingresses struct{ *writer }

// Reconcile implements reconcile.Reconciler for an Ingress key.
func (r *ingresses) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ing := &networkingv1.Ingress{}
	if err := r.client.Get(ctx, req.NamespacedName, ing); apierrors.IsNotFound(err) {
		ing = nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	key := req.String()
	if !r.ours(ing) {
		r.routed.forget(req.NamespacedName)
		r.forget("ingress/" + key)
		r.forget("ingress-warnings/" + key)
		r.forget("istiod/" + key)
		return ctrl.Result{}, nil
	}
	on, why, err := r.istiodConverts(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	if on {
		log.FromContext(ctx).V(1).Info("not writing: istiod converts Ingresses itself", "reason", why)
		r.report(ing, "istiod/"+key, ReasonIstiod, []string{why})
		return ctrl.Result{}, nil
	}
	a := r.settings.Analyze(ing, r.view)
	var errs, warns []string
	for _, e := range a.Diagnostics.Errors {
		if strings.Contains(e.Field, ".paths[") {
			errs = append(errs, e.Error()+" (this path gets no route)")
			continue
		}
		errs = append(errs, e.Error()) // says itself what is left out
	}
	for _, w := range a.Diagnostics.Warnings {
		warns = append(warns, w.String())
	}
	r.report(ing, "ingress/"+key, ReasonError, errs)
	r.report(ing, "ingress-warnings/"+key, ReasonWarning, warns)
	return ctrl.Result{}, r.status(ctx, ing)
}

// status sets status.loadBalancer.ingress from the ingress gateway Service,
// writing only when it changes, and only once the Ingress's routes are
// written (see routed).
func (r *ingresses) status(ctx context.Context, ing *networkingv1.Ingress) error {
	var svc corev1.Service
	err := r.client.Get(ctx, types.NamespacedName{Namespace: r.settings.GatewayNamespace, Name: r.settings.IngressService}, &svc)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	want := LoadBalancer(&svc)
	if slices.EqualFunc(ing.Status.LoadBalancer.Ingress, want, sameAddress) {
		return nil
	}
	if !r.routed.ready(ing) {
		log.FromContext(ctx).V(1).Info("status waits for the routes of the Ingress's hosts")
		return nil // queued again once they are written
	}
	r.routed.quiet(ctx)
	var now networkingv1.Ingress
	if err := r.client.Get(ctx, client.ObjectKeyFromObject(ing), &now, client.UnsafeDisableDeepCopy); err != nil || now.ResourceVersion != ing.ResourceVersion {
		return client.IgnoreNotFound(err) // changed while it waited: its event reconciles it again
	}
	// A merge patch of status.loadBalancer alone: the cached Ingress lacks
	// the labels and most annotations (lookup.CacheObjects), which an
	// update would have to carry.
	patched := ing.DeepCopy()
	patched.Status.LoadBalancer.Ingress = want
	log.FromContext(ctx).Info("updating status", "addresses", len(want))
	return r.client.Status().Patch(ctx, patched, client.MergeFrom(ing), client.FieldOwner(FieldOwner))
}

// LoadBalancer is the Ingress status for the ingress gateway Service: its
// load-balancer IPs and hostnames, then its external IPs.
func LoadBalancer(svc *corev1.Service) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: lb.IP, Hostname: lb.Hostname})
	}
	for _, ip := range svc.Spec.ExternalIPs {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: ip})
	}
	return out
}

func sameAddress(a, b networkingv1.IngressLoadBalancerIngress) bool {
	return a.IP == b.IP && a.Hostname == b.Hostname && len(a.Ports) == 0 && len(b.Ports) == 0
}
