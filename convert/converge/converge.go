// Package converge keeps the cluster equal to what convert says: it writes
// the Gateway of every Ingress of ours and the VirtualService of every host,
// removes them when their Ingress or host is gone, and writes Ingress status
// (SPEC sections 5 and 6). Work is keyed so that one change recomputes only
// what it touches: an Ingress key for its Gateway and status, a host key for
// its VirtualService.
package converge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/lookup"
)

// FieldOwner is the field manager of every write.
const FieldOwner = "ingressguard"

// Indexes of Ingresses the reconcilers read.
const (
	// VirtualServiceHostIndex indexes Ingresses by the hosts whose
	// VirtualService they contribute to ("" for "*"). It is lookup's
	// HostIndex, which lookup.IndexFields registers.
	VirtualServiceHostIndex = lookup.HostIndex
	// BackendIndex, which IndexFields registers, indexes Ingresses by the
	// Services ("namespace/name") whose ports their backends name.
	BackendIndex = "ingressguard.backendServices"
)

// Event reasons on Ingresses.
const (
	ReasonError         = "IngressError"
	ReasonWarning       = "IngressWarning"
	ReasonNameCollision = "NameCollision"
	ReasonIstiod        = "IstiodConverts"
)

// CacheOptions adds to base what the reconciler reads: the generated
// Gateways and VirtualServices (only those labelled as ours, only in the
// gateway namespace) and the ConfigMaps of the gateway namespace (istiod's
// mesh config).
//
// Gateways and VirtualServices are cached without their spec, which is
// replaced by a digest (see slimGenerated): the reconcilers only compare
// it with the spec they want, and decoded Istio specs were the largest
// part of the cache (a VirtualService of six routes takes about 5 KiB).
// Other readers of the same cache see these slimmed objects too.
func CacheOptions(s convert.Settings, base cache.Options) cache.Options {
	only := map[string]cache.Config{s.GatewayNamespace: {}}
	ours := labels.SelectorFromSet(labels.Set{convert.LabelManagedBy: convert.ManagedBy})
	if base.ByObject == nil {
		base.ByObject = map[client.Object]cache.ByObject{}
	}
	base.ByObject[&istionet.Gateway{}] = cache.ByObject{Namespaces: only, Label: ours, Transform: slimGenerated}
	base.ByObject[&istionet.VirtualService{}] = cache.ByObject{Namespaces: only, Label: ours, Transform: slimGenerated}
	base.ByObject[&corev1.ConfigMap{}] = cache.ByObject{Namespaces: only}
	return base
}

// digestKey is the annotation under which a cached Gateway or
// VirtualService holds its digest (see digestOf). Only cached copies have
// it: it is never written.
const digestKey = "ingressguard.io/cached-digest"

// Keys of the labels and annotations that convert sets on generated
// objects. The digest covers their values and nothing else, so that
// labels and annotations others add (kubectl's last-applied-configuration
// is a copy of the whole object) neither cost cache memory nor count as a
// difference.
var (
	ownedLabelKeys      = []string{convert.LabelManagedBy, convert.LabelIngressNamespace, convert.LabelIngressName, convert.LabelHost}
	ownedAnnotationKeys = []string{convert.AnnotationIngress, convert.AnnotationHost, convert.AnnotationIngresses}
)

// oursLabels is the Labels map of every cached copy that is labelled as
// ours, shared by all of them; nothing may change it (the cache's readers
// get deep copies).
var oursLabels = map[string]string{convert.LabelManagedBy: convert.ManagedBy}

// digestOf is the SHA-256 of the owned labels and annotations (those of
// ownedLabelKeys and ownedAnnotationKeys that are set) and of the spec's
// deterministic protobuf encoding: objects with the same owned metadata
// and spec have equal digests.
func digestOf(labels, annotations map[string]string, spec proto.Message) string {
	h := sha256.New()
	for _, part := range []struct {
		kind string
		keys []string
		m    map[string]string
	}{{"label", ownedLabelKeys, labels}, {"annotation", ownedAnnotationKeys, annotations}} {
		for _, k := range part.keys {
			if v, ok := part.m[k]; ok {
				fmt.Fprintf(h, "%s %q=%q\n", part.kind, k, v)
			}
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(spec)
	if err != nil {
		return "unencodable: " + err.Error() // equal to no wanted object's digest
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// slimMark marks the objects slimGenerated made: their managedFields
// share its array. Nothing decoded from the API server can, so the mark
// cannot be forged by an annotation or an empty spec.
var slimMark = make([]metav1.ManagedFieldsEntry, 0, 1)

// slimmed reports whether slimGenerated made m.
func slimmed(m *metav1.ObjectMeta) bool {
	return cap(m.ManagedFields) > 0 && &m.ManagedFields[:1][0] == &slimMark[:1][0]
}

// slimGenerated is the cache transform of Gateways and VirtualServices. It
// keeps their name, namespace, UID, resourceVersion, generation and
// deletion timestamp; of the labels only app.kubernetes.io/managed-by
// (as oursLabels); of the annotations only the ones the watches map to
// work keys (convert.AnnotationIngress, convert.AnnotationHost); and it
// replaces the spec and the owned metadata by their digest, in annotation
// digestKey. Tombstones, and the objects it made, pass unchanged:
// client-go applies transforms twice to the objects of a streamed initial
// list.
func slimGenerated(in any) (any, error) {
	meta := func(m *metav1.ObjectMeta, spec proto.Message) metav1.ObjectMeta {
		out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
			Generation: m.Generation, DeletionTimestamp: m.DeletionTimestamp, ManagedFields: slimMark,
			Annotations: map[string]string{digestKey: digestOf(m.Labels, m.Annotations, spec)}}
		if m.Labels[convert.LabelManagedBy] == convert.ManagedBy {
			out.Labels = oursLabels
		}
		for _, k := range []string{convert.AnnotationIngress, convert.AnnotationHost} {
			if v, ok := m.Annotations[k]; ok {
				out.Annotations[k] = v
			}
		}
		return out
	}
	switch o := in.(type) {
	case *istionet.Gateway:
		if slimmed(&o.ObjectMeta) {
			return o, nil
		}
		return &istionet.Gateway{TypeMeta: o.TypeMeta, ObjectMeta: meta(&o.ObjectMeta, &o.Spec)}, nil
	case *istionet.VirtualService:
		if slimmed(&o.ObjectMeta) {
			return o, nil
		}
		return &istionet.VirtualService{TypeMeta: o.TypeMeta, ObjectMeta: meta(&o.ObjectMeta, &o.Spec)}, nil
	}
	return in, nil
}

// IndexFields registers BackendIndex. The reconcilers also read
// VirtualServiceHostIndex, which lookup.IndexFields registers.
func IndexFields(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &networkingv1.Ingress{}, BackendIndex, func(o client.Object) []string {
		return convert.BackendServices(o.(*networkingv1.Ingress))
	}); err != nil {
		return fmt.Errorf("indexing Ingresses by backend Service: %w", err)
	}
	return nil
}

// writer holds what both reconcilers share: reading the cache, writing
// only objects labelled as ours, and reporting problems as events.
type writer struct {
	settings convert.Settings
	cluster  convert.Cluster
	client   client.Client // cache-backed reads; writes
	api      client.Reader // uncached reads, for name collisions only
	events   events.EventRecorder

	reported sync.Map // event key -> digest of what was last reported
}

// istiodConverts reads the mesh config from the cache.
func (w *writer) istiodConverts(ctx context.Context) (bool, string, error) {
	var cm corev1.ConfigMap
	// Read-only: no copy of a mesh config that can be large, per reconcile.
	err := w.client.Get(ctx, types.NamespacedName{Namespace: w.settings.GatewayNamespace, Name: MeshConfigMap}, &cm, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		on, why := IstiodConverts(nil)
		return on, why, nil
	}
	if err != nil {
		return false, "", err
	}
	on, why := IstiodConverts(&cm)
	return on, why, nil
}

// ours reports whether ing exists, is not being deleted, and is ours.
func (w *writer) ours(ing *networkingv1.Ingress) bool {
	return ing != nil && ing.DeletionTimestamp == nil && w.settings.Owns(ing, w.cluster)
}

// report records one Warning event per message on ing, unless the same
// messages were already reported under key for this generation. Only keys
// with messages are remembered: an entry for each Ingress without problems
// held megabytes at 10,000 Ingresses, and forgetting a key whose problems
// are gone reports them again if they come back, as a new digest would.
func (w *writer) report(ing *networkingv1.Ingress, key, reason string, messages []string) {
	if len(messages) == 0 {
		w.reported.Delete(key)
		return
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d|%s", ing.Generation, reason)
	for _, m := range messages {
		fmt.Fprintf(h, "|%s", m)
	}
	digest := string(h.Sum(nil))
	if prev, ok := w.reported.Load(key); ok && prev == digest {
		return
	}
	w.reported.Store(key, digest)
	for _, m := range messages {
		w.events.Eventf(ing, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", m)
	}
}

// forget drops what was reported under key, when its Ingress is gone.
func (w *writer) forget(key string) { w.reported.Delete(key) }

// emptyLike returns an empty object of obj's type, to read into.
func emptyLike(obj client.Object) client.Object {
	switch obj.(type) {
	case *istionet.Gateway:
		return &istionet.Gateway{}
	case *istionet.VirtualService:
		return &istionet.VirtualService{}
	}
	panic(fmt.Sprintf("converge: no empty %T", obj))
}

// specOf returns the protobuf spec of a generated object.
func specOf(obj client.Object) proto.Message {
	switch o := obj.(type) {
	case *istionet.Gateway:
		return &o.Spec
	case *istionet.VirtualService:
		return &o.Spec
	}
	panic(fmt.Sprintf("converge: no spec for %T", obj))
}

// put makes the live object equal to desired in the fields we own: labels,
// annotations and the whole spec. It writes nothing when they already are,
// and never touches an object of that name that is not labelled as ours
// (the cache only holds labelled ones); sources then get a Warning event.
// The cache holds the spec's digest only, so an update first reads the
// object from the API server.
func (w *writer) put(ctx context.Context, desired client.Object, sources []*networkingv1.Ingress) error {
	cached := emptyLike(desired)
	err := w.client.Get(ctx, client.ObjectKeyFromObject(desired), cached)
	if apierrors.IsNotFound(err) {
		probe := emptyLike(desired)
		switch err := w.api.Get(ctx, client.ObjectKeyFromObject(desired), probe); {
		case err == nil:
			if probe.GetLabels()[convert.LabelManagedBy] == convert.ManagedBy {
				return fmt.Errorf("%T %s is ours but not in the cache yet; retrying", desired, desired.GetName())
			}
			w.collision(desired, sources)
			return nil
		case !apierrors.IsNotFound(err):
			return err
		}
		log.FromContext(ctx).Info("creating", "kind", kindOf(desired), "name", desired.GetName())
		return w.client.Create(ctx, desired, client.FieldOwner(FieldOwner))
	}
	if err != nil {
		return err
	}
	if ownedCached(cached, desired) {
		return nil
	}
	live := emptyLike(desired)
	if err := w.api.Get(ctx, client.ObjectKeyFromObject(desired), live); err != nil {
		return err // gone since: the cache will tell, and the key is retried
	}
	if live.GetLabels()[convert.LabelManagedBy] != convert.ManagedBy {
		return fmt.Errorf("%T %s is no longer labelled as ours; retrying", desired, desired.GetName())
	}
	if owned(live, desired) {
		return nil // the cache was behind
	}
	live.SetLabels(merged(live.GetLabels(), desired.GetLabels()))
	live.SetAnnotations(merged(live.GetAnnotations(), desired.GetAnnotations()))
	proto.Reset(specOf(live))
	proto.Merge(specOf(live), specOf(desired))
	log.FromContext(ctx).Info("updating", "kind", kindOf(desired), "name", desired.GetName())
	return w.client.Update(ctx, live, client.FieldOwner(FieldOwner))
}

// collision reports a same-named object that is not ours.
func (w *writer) collision(desired client.Object, sources []*networkingv1.Ingress) {
	msg := fmt.Sprintf("%s %s/%s already exists without label %s=%s, so ingressguard leaves it alone and this Ingress is not served through it; rename or remove that object",
		kindOf(desired), desired.GetNamespace(), desired.GetName(), convert.LabelManagedBy, convert.ManagedBy)
	for _, ing := range sources {
		w.report(ing, "collision/"+kindOf(desired)+"/"+desired.GetName()+"/"+ing.Namespace+"/"+ing.Name, ReasonNameCollision, []string{msg})
	}
}

// remove deletes the object of that name if it is ours.
func (w *writer) remove(ctx context.Context, obj client.Object, name string) error {
	err := w.client.Get(ctx, types.NamespacedName{Namespace: w.settings.GatewayNamespace, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if obj.GetLabels()[convert.LabelManagedBy] != convert.ManagedBy {
		return nil
	}
	log.FromContext(ctx).Info("deleting", "kind", kindOf(obj), "name", name)
	uid := obj.GetUID()
	err = w.client.Delete(ctx, obj, client.Preconditions{UID: &uid})
	return client.IgnoreNotFound(err)
}

// owned reports whether live, as read from the API server, already has
// desired's labels, annotations and spec.
func owned(live, desired client.Object) bool {
	return metaOwned(live, desired) && proto.Equal(specOf(live), specOf(desired))
}

// ownedCached is owned for a cached copy, which holds the digest of its
// owned labels, annotations and spec instead of them (in a cache built
// without slimGenerated, the object itself). A live object with an owned
// key that desired does not set is not owned by this test; put then reads
// the object and finds it owned, and writes nothing.
func ownedCached(cached, desired client.Object) bool {
	if digest, ok := cached.GetAnnotations()[digestKey]; ok {
		return digest == digestOf(desired.GetLabels(), desired.GetAnnotations(), specOf(desired))
	}
	return owned(cached, desired)
}

// metaOwned reports whether live has desired's labels and annotations.
func metaOwned(live, desired client.Object) bool {
	return contains(live.GetLabels(), desired.GetLabels()) && contains(live.GetAnnotations(), desired.GetAnnotations())
}

func contains(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func merged(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *istionet.Gateway:
		return "Gateway"
	case *istionet.VirtualService:
		return "VirtualService"
	}
	return fmt.Sprintf("%T", obj)
}
