// Package controller keeps the cluster equal to what convert says: it writes
// the Gateway of every Ingress of ours and the VirtualService of every host,
// removes them when their Ingress or host is gone, and writes Ingress status
// (SPEC sections 5 and 6). Work is keyed so that one change recomputes only
// what it touches: an Ingress key for its Gateway and status, a host key for
// its VirtualService.
package controller

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ingressguard/ingressguard/convert"
)

// FieldOwner is the field manager of every write.
const FieldOwner = "ingressguard"

// BackendIndex, which IndexFields registers, indexes Ingresses by the
// Services ("namespace/name") whose ports their backends name.
const BackendIndex = "ingressguard.backendServices"

// Event reasons on Ingresses.
const (
	ReasonError         = "IngressError"
	ReasonWarning       = "IngressWarning"
	ReasonNameCollision = "NameCollision"
	ReasonIstiod        = "IstiodConverts"
)

// CacheObjects says how the manager's cache holds what the reconcilers
// read besides lookup's objects (server.CacheOptions puts the two
// together): the generated Gateways, VirtualServices, DestinationRules
// and AuthorizationPolicies (only those labelled as ours, only in the
// gateway namespace) and the ConfigMaps of the gateway namespace (istiod's
// mesh config).
//
// The generated objects are watched through the metadata API and cached as metav1.PartialObjectMetadata, slimmed to a digest (see
// slimGenerated): the API server sends no spec, so none is decoded, and
// the reconcilers learn whether the spec is still the one they wrote from
// annotations AnnotationSpecDigest and AnnotationSpecGeneration. Other
// readers of the same cache see these slimmed objects too.
func CacheObjects(s convert.Settings) map[client.Object]cache.ByObject {
	only := map[string]cache.Config{s.GatewayNamespace: {}}
	ours := labels.SelectorFromSet(labels.Set{convert.LabelManagedBy: convert.ManagedBy})
	out := map[client.Object]cache.ByObject{&corev1.ConfigMap{}: {Namespaces: only}}
	for _, gvk := range generatedGVKs {
		out[metadataOf(gvk)] = cache.ByObject{Namespaces: only, Label: ours, Transform: slimGenerated}
	}
	return out
}

// IndexFields registers BackendIndex.
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
	view     convert.View
	client   client.Client // cache-backed reads; writes
	api      client.Reader // uncached reads, for name collisions only
	events   events.EventRecorder

	reported sync.Map // event key -> digest of what was last reported

	// mesh is IstiodConverts of the mesh ConfigMap at version (UID and
	// resourceVersion).
	mesh struct {
		sync.Mutex
		version string
		on      bool
		why     string
	}
}

// istiodConverts reads the mesh config from the cache. The config is
// parsed once per version of the ConfigMap, not once per reconcile.
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
	version := string(cm.UID) + "/" + cm.ResourceVersion
	w.mesh.Lock()
	defer w.mesh.Unlock()
	if w.mesh.version != version {
		w.mesh.on, w.mesh.why = IstiodConverts(&cm)
		w.mesh.version = version
	}
	return w.mesh.on, w.mesh.why, nil
}

// ours reports whether ing exists, is not being deleted, and is ours.
func (w *writer) ours(ing *networkingv1.Ingress) bool {
	return ing != nil && ing.DeletionTimestamp == nil && w.settings.Ours(ing, w.view)
}

// report records one Warning event per message on ing, unless the same
// messages were already reported under key for this generation. Only keys
// with messages are remembered, so that memory grows with the problems,
// not with the Ingresses; forgetting a key whose problems
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

// put makes the live object equal to desired in the fields we own: labels,
// annotations and the whole spec, and stamps it with AnnotationSpecDigest
// and AnnotationSpecGeneration. It writes nothing when the object already
// is so, and never touches an object of that name that is not labelled as
// ours (the cache only holds labelled ones); sources then get a Warning
// event. The cache holds metadata only, so an update first reads the
// object from the API server. put may change desired.
func (w *writer) put(ctx context.Context, desired client.Object, sources []*networkingv1.Ingress) error {
	key, gvk := client.ObjectKeyFromObject(desired), gvkOf(desired)
	stamp(desired, AnnotationSpecDigest, specDigest(specOf(desired)))
	cached := metadataOf(gvk)
	err := w.client.Get(ctx, key, cached, client.UnsafeDisableDeepCopy) // read-only
	if apierrors.IsNotFound(err) {
		probe := metadataOf(gvk)
		switch err := w.api.Get(ctx, key, probe); {
		case err == nil:
			if probe.GetLabels()[convert.LabelManagedBy] == convert.ManagedBy {
				return fmt.Errorf("%s %s is ours but not in the cache yet; retrying", gvk.Kind, desired.GetName())
			}
			w.collision(desired, sources)
			return nil
		case !apierrors.IsNotFound(err):
			return err
		}
		stamp(desired, AnnotationSpecGeneration, "1") // the generation of every new custom resource
		log.FromContext(ctx).Info("creating", "kind", gvk.Kind, "name", desired.GetName())
		return w.client.Create(ctx, desired, client.FieldOwner(FieldOwner))
	}
	if err != nil {
		return err
	}
	if upToDate(cached, desired) {
		return nil
	}
	live := emptyLike(desired)
	if err := w.api.Get(ctx, key, live); err != nil {
		return err // gone since: the cache will tell, and the key is retried
	}
	if live.GetLabels()[convert.LabelManagedBy] != convert.ManagedBy {
		return fmt.Errorf("%s %s is no longer labelled as ours; retrying", gvk.Kind, desired.GetName())
	}
	// The API server adds one to metadata.generation when, and only when,
	// an update changes the spec.
	generation, sameSpec := live.GetGeneration(), proto.Equal(specOf(live), specOf(desired))
	if !sameSpec {
		generation++
	}
	stamp(desired, AnnotationSpecGeneration, strconv.FormatInt(generation, 10))
	if sameSpec && hasManagedMeta(live, desired) {
		return nil // the cache was behind
	}
	live.SetLabels(merged(live.GetLabels(), desired.GetLabels()))
	live.SetAnnotations(merged(live.GetAnnotations(), desired.GetAnnotations()))
	proto.Reset(specOf(live))
	proto.Merge(specOf(live), specOf(desired))
	log.FromContext(ctx).Info("updating", "kind", gvk.Kind, "name", desired.GetName())
	return w.client.Update(ctx, live, client.FieldOwner(FieldOwner))
}

// stamp sets annotation key of obj to value.
func stamp(obj client.Object, key, value string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	obj.SetAnnotations(a)
}

// collision reports a same-named object that is not ours.
func (w *writer) collision(desired client.Object, sources []*networkingv1.Ingress) {
	kind := gvkOf(desired).Kind
	msg := fmt.Sprintf("%s %s/%s already exists without label %s=%s, so ingressguard leaves it alone and this Ingress is not served through it; rename or remove that object",
		kind, desired.GetNamespace(), desired.GetName(), convert.LabelManagedBy, convert.ManagedBy)
	for _, ing := range sources {
		w.report(ing, "collision/"+kind+"/"+desired.GetName()+"/"+ing.Namespace+"/"+ing.Name, ReasonNameCollision, []string{msg})
	}
}

// remove deletes the object of that kind and name if it is ours.
func (w *writer) remove(ctx context.Context, gvk schema.GroupVersionKind, name string) error {
	obj := metadataOf(gvk)
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
	log.FromContext(ctx).Info("deleting", "kind", gvk.Kind, "name", name)
	uid := obj.GetUID()
	err = w.client.Delete(ctx, obj, client.Preconditions{UID: &uid})
	return client.IgnoreNotFound(err)
}

// hasManagedMeta reports whether live has desired's labels and annotations.
func hasManagedMeta(live, desired client.Object) bool {
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
