package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ingressguard/ingressguard/convert"
)

// hosts converges, per host, the host's Gateway and VirtualService; and
// deletes generated objects whose name is not their recorded host's
// (those of an older version of ingressguard), unless that would take
// what serves a host away (see disown).
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
		gvk := generatedGVK(req.Namespace)
		obj, err := r.cached(ctx, gvk, req.Name)
		if obj == nil || err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, r.disown(ctx, gvk, obj)
	}
	host := hostOf(req)
	defer r.routed.begin()()
	if on, _, err := r.istiodConverts(ctx); on || err != nil {
		return ctrl.Result{}, err // the Ingress reconciler reports it
	}
	src := &viewSources{w: r.writer, routing: map[string][]*convert.Analysis{}, own: host}
	if err := r.write(ctx, host, convert.NewVirtualHost(host, src)); err != nil {
		// Held: the host's Ingresses were told why, and their status waits
		// until what holds the write goes or they change.
		if errors.Is(err, errTaken) {
			return ctrl.Result{RequeueAfter: TakenRetry}, nil
		}
		return ctrl.Result{}, ignoreHeld(err)
	}
	r.routed.reconciled(host, src.read, r.cachedNow)
	return ctrl.Result{}, nil
}

// cachedNow reports whether the cache still holds ing (the same UID).
func (r *hosts) cachedNow(ing *networkingv1.Ingress) bool {
	var now networkingv1.Ingress
	err := r.client.Get(context.Background(), client.ObjectKeyFromObject(ing), &now, client.UnsafeDisableDeepCopy)
	return err == nil && now.UID == ing.UID
}

// TakenRetry is how long a host whose object's name another object holds
// waits before it is tried again, in case that object went unseen.
const TakenRetry = 30 * time.Second

// write makes host's objects those of v. It returns errHeld when one of
// them was not written (put), once it has written the others.
func (r *hosts) write(ctx context.Context, host string, v *convert.VirtualHost) error {
	gw, vs := r.settings.Gateway(v), r.settings.VirtualService(v)
	if gw == nil {
		// The routes go before the policy that restricts them.
		for _, gvk := range []schema.GroupVersionKind{virtualServiceGVK, gatewayGVK, authorizationPolicyGVK} {
			if err := r.remove(ctx, gvk, host); err != nil {
				return err
			}
		}
		return nil
	}
	sources := v.Ingresses()
	// The AuthorizationPolicy first, so that a restricted route is never
	// served open, even for a moment; and removed after the routes.
	ap := r.settings.AuthorizationPolicy(v)
	var held error
	if ap != nil {
		if held = r.put(ctx, ap, sources); ignoreHeld(held) != nil {
			return held
		}
		switch ours, err := r.isOurs(ctx, authorizationPolicyGVK, host); {
		case err != nil:
			return err
		case !ours:
			// A policy of that name that is not ours (put reported the
			// collision): the routes it should restrict are not served.
			if err := r.remove(ctx, virtualServiceGVK, host); err != nil {
				return err
			}
			return errTaken
		}
	}
	// The Gateway before the VirtualService: a VirtualService bound to a
	// Gateway that does not exist yet is not served, and istiod would say
	// so.
	for _, obj := range []client.Object{gw, vs} {
		if err := r.put(ctx, obj, sources); ignoreHeld(err) != nil {
			return err
		} else if err != nil && !errors.Is(held, errTaken) {
			held = err
		}
	}
	if ap == nil {
		if err := r.remove(ctx, authorizationPolicyGVK, host); err != nil {
			return err
		}
	}
	return held
}

// isOurs reports whether host's object of that kind exists, is ours and
// records host: from the cache, else from the API server (the cache may
// not have a new object yet).
func (r *hosts) isOurs(ctx context.Context, gvk schema.GroupVersionKind, host string) (bool, error) {
	name, recorded := convert.ObjectName(host), hostRequest(host).Name // "*" for ""
	obj, err := r.cached(ctx, gvk, name)
	if err != nil || obj != nil {
		return obj != nil && records(obj, recorded), err
	}
	live := metadataOf(gvk)
	if err := r.api.Get(ctx, client.ObjectKey{Namespace: r.settings.GatewayNamespace, Name: name}, live); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return records(live, recorded), nil
}

// virtualHost is host's convert.VirtualHost from the writer's view.
func (r *hosts) virtualHost(host string) *convert.VirtualHost {
	return convert.NewVirtualHost(host, &viewSources{w: r.writer, routing: map[string][]*convert.Analysis{}})
}

// remove deletes host's object of that kind, once host has no Ingresses.
// An object of ours under that name that records another host is not
// host's: disown decides about it.
func (r *hosts) remove(ctx context.Context, gvk schema.GroupVersionKind, host string) error {
	obj, err := r.cached(ctx, gvk, convert.ObjectName(host))
	if obj == nil || err != nil {
		return err
	}
	if !records(obj, hostRequest(host).Name) { // the recorded form of host: "*" for ""
		return r.disown(ctx, gvk, obj)
	}
	return r.delete(ctx, gvk, obj)
}

// disown deals with an object of ours whose name may not be its recorded
// host's (convert.AnnotationHost). It deletes it unless
//   - the name is its recorded host's: that host's reconcile decides;
//   - the name is that of another host with Ingresses: a collision,
//     reported on that host's Ingresses (put would report it too);
//   - its recorded host has Ingresses and its own object of that kind is
//     not there yet: deleting this one might take what serves the host
//     away, so it is retried until the host's object is written.
//
// What remains is an older version's object (other names, shorter
// hashes) or one whose host annotation was edited, on a name no host with
// Ingresses needs, whose recorded host, if any, is served by its own
// object or by none.
func (r *hosts) disown(ctx context.Context, gvk schema.GroupVersionKind, obj client.Object) error {
	if _, ours := ownerOf(obj); !ours {
		return nil
	}
	recorded, has := obj.GetAnnotations()[convert.AnnotationHost]
	if has && obj.GetName() == convert.ObjectName(recorded) {
		return nil
	}
	if host, v := r.claimant(obj.GetName()); v != nil {
		r.collision(gvk.Kind, obj.GetNamespace(), obj.GetName(), hostRequest(host).Name, obj, v.Ingresses())
		return nil
	}
	// hostOf(hostRequest(h)) is the host key of a recorded host: "" for "*".
	if has && r.settings.Gateway(r.virtualHost(hostOf(hostRequest(recorded)))) != nil {
		own, err := r.cached(ctx, gvk, convert.ObjectName(recorded))
		if err != nil {
			return err
		}
		if own == nil || !records(own, recorded) {
			return fmt.Errorf("%s %s records host %q, which has Ingresses but no %s of its own yet; deleting it once that is written", gvk.Kind, obj.GetName(), recorded, gvk.Kind)
		}
	}
	return r.delete(ctx, gvk, obj)
}

// claimant returns the host with Ingresses of ours whose objects are
// named name, and its convert.VirtualHost; nil if there is none. Only a
// name of ObjectName's form can be one: older versions' names are not
// looked up.
func (r *hosts) claimant(name string) (string, *convert.VirtualHost) {
	if !convert.HasObjectNameForm(name) {
		return "", nil
	}
	for _, k := range r.view.HostKeys() {
		if convert.ObjectName(k) != name {
			continue
		}
		if v := r.virtualHost(k); r.settings.Gateway(v) != nil {
			return k, v
		}
	}
	return "", nil
}

// generatedGVK is the GroupVersionKind of a generated kind.
func generatedGVK(kind string) schema.GroupVersionKind {
	for _, k := range hostKinds {
		if gvk := gvkOf(k); gvk.Kind == kind {
			return gvk
		}
	}
	panic(fmt.Sprintf("controller: %s is not a generated kind", kind))
}

// viewSources are convert.Sources from the writer's view: the Ingresses of
// ours, each analysed once per reconcile, without what their namespace
// may not serve (convert.Analysis.Contributes, convert.Settings.ServesTLS).
// It keeps in read the Ingresses of ours it read that name host own, left
// out or not (see routed).
type viewSources struct {
	w       *writer
	routing map[string][]*convert.Analysis
	own     string
	read    []*networkingv1.Ingress
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
		if key == s.own {
			s.read = append(s.read, ing)
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
		if host == s.own && s.w.ours(ing) {
			s.read = append(s.read, ing)
		}
		if s.w.ours(ing) && s.w.settings.ServesTLS(ing, host, s.w.view) {
			out = append(out, ing)
		}
	}
	return out
}
