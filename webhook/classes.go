package webhook

import (
	"context"
	"fmt"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	acv1 "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	crhandler "sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ingressguard/ingressguard/convert"
)

// FieldOwner is the field manager of the match conditions ingressguard
// writes into its webhook configurations.
const FieldOwner = "ingressguard-match-conditions"

// MatchConditions keeps the match conditions of the webhook configurations
// named name current with the cluster's IngressClasses (MatchCondition),
// so that an Ingress whose spec.ingressClassName names another
// controller's class is never sent to the webhooks, and so is never
// blocked while they are down; the mutating webhook keeps its
// DefaultingCondition besides. It watches IngressClasses and writes only
// the matchConditions of its two webhooks, by server-side apply, into
// configurations that exist; it creates none. It runs on every replica,
// each writing the same.
func MatchConditions(mgr manager.Manager, settings convert.Settings, name string) error {
	r := &classes{client: mgr.GetClient(), api: mgr.GetAPIReader(), settings: settings, name: name}
	return ctrl.NewControllerManagedBy(mgr).
		Named("matchconditions").
		// On every replica, so that a webhook-only install keeps them
		// current too. Its name repeats when a process runs several
		// managers (the end-to-end tests do), which is harmless here: it
		// reports no metrics anyone reads.
		WithOptions(controller.Options{NeedLeaderElection: ptr.To(false), SkipNameValidation: ptr.To(true)}).
		Watches(&networkingv1.IngressClass{}, crhandler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
			return []reconcile.Request{{}}
		})).
		Complete(r)
}

type classes struct {
	client   client.Client
	api      client.Reader
	settings convert.Settings
	name     string
}

// Reconcile implements reconcile.Reconciler: one key, the IngressClasses.
func (r *classes) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var list networkingv1.IngressClassList
	if err := r.client.List(ctx, &list); err != nil {
		return reconcile.Result{}, err
	}
	istio, existing := []string{}, []string{}
	for _, c := range list.Items {
		existing = append(existing, c.Name)
		if c.Spec.Controller == convert.ControllerName {
			istio = append(istio, c.Name)
		}
	}
	slices.Sort(istio)
	slices.Sort(existing)
	mc := MatchCondition(r.settings, istio, existing)
	cond := acv1.MatchCondition().WithName(mc.Name).WithExpression(mc.Expression)
	dc := DefaultingCondition()
	defaulting := acv1.MatchCondition().WithName(dc.Name).WithExpression(dc.Expression)

	// Apply only what differs, so that a resync writes nothing.
	var m admissionregistrationv1.MutatingWebhookConfiguration
	found, err := r.get(ctx, &m)
	if err != nil {
		return reconcile.Result{}, err
	}
	if found && !slices.ContainsFunc(m.Webhooks, func(w admissionregistrationv1.MutatingWebhook) bool {
		return w.Name == MutatingWebhookName && sameConditions(w.MatchConditions, mc, dc)
	}) {
		mutating := acv1.MutatingWebhookConfiguration(r.name).WithWebhooks(acv1.MutatingWebhook().WithName(MutatingWebhookName).WithMatchConditions(cond, defaulting))
		if err := r.client.Apply(ctx, mutating, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
			return reconcile.Result{}, err
		}
	}
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	if found, err = r.get(ctx, &v); err != nil {
		return reconcile.Result{}, err
	}
	if found && !slices.ContainsFunc(v.Webhooks, func(w admissionregistrationv1.ValidatingWebhook) bool {
		return w.Name == ValidatingWebhookName && sameConditions(w.MatchConditions, mc)
	}) {
		validating := acv1.ValidatingWebhookConfiguration(r.name).WithWebhooks(acv1.ValidatingWebhook().WithName(ValidatingWebhookName).WithMatchConditions(cond))
		if err := r.client.Apply(ctx, validating, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
			return reconcile.Result{}, err
		}
	}
	log.FromContext(ctx).V(1).Info("match conditions current", "istioClasses", istio)
	return reconcile.Result{}, nil
}

// sameConditions reports whether have is want in any order: the API server
// keeps a merged list in the order its appliers first wrote it.
func sameConditions(have []admissionregistrationv1.MatchCondition, want ...admissionregistrationv1.MatchCondition) bool {
	return len(have) == len(want) && !slices.ContainsFunc(want, func(c admissionregistrationv1.MatchCondition) bool {
		return !slices.Contains(have, c)
	})
}

// get reads the configuration named r.name into obj; found is false when
// there is none (apply would create a partial one).
func (r *classes) get(ctx context.Context, obj client.Object) (found bool, err error) {
	err = r.api.Get(ctx, client.ObjectKey{Name: r.name}, obj)
	if apierrors.IsNotFound(err) {
		log.FromContext(ctx).V(1).Info("no webhook configuration to keep current", "kind", fmt.Sprintf("%T", obj), "name", r.name)
		return false, nil
	}
	return err == nil, err
}
