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
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

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
	ReasonTooLarge      = "GeneratedObjectTooLarge"
	ReasonIstiod        = "IstiodConverts"
)

// CacheObjects says how the manager's cache holds what the reconcilers
// read besides lookup's objects (server.CacheOptions puts the two
// together): the generated objects (only those labelled as ours, only in
// the gateway namespace) and the ConfigMaps of the gateway namespace
// (istiod's mesh config).
//
// Generated objects are watched whole, so that the cache can hold the
// digest of the spec the API server has (see slimGenerated), and cached
// slimmed to it: an empty spec, few metadata fields. The reconcilers learn
// from that digest alone whether an object is still the one they wrote.
// Other readers of the same cache see these slimmed objects too.
func CacheObjects(s convert.Settings) map[client.Object]cache.ByObject {
	only := map[string]cache.Config{s.GatewayNamespace: {}}
	ours := labels.SelectorFromSet(labels.Set{convert.LabelManagedBy: convert.ManagedBy})
	out := map[client.Object]cache.ByObject{&corev1.ConfigMap{}: {Namespaces: only}}
	for _, k := range generatedKinds {
		out[emptyLike(k)] = cache.ByObject{Namespaces: only, Label: ours, Transform: slimGenerated}
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
	view     View
	client   client.Client // cache-backed reads; writes
	api      client.Reader // uncached reads, for name collisions only
	events   events.EventRecorder

	reported sync.Map // event key -> digest of what was last reported
	// conflicted maps a backend Service ("namespace/name") to the
	// Ingresses its DestinationRule conflict was last reported on.
	conflicted sync.Map
	routed     *routed // orders status writes after route writes
	// wrote maps a generated object ("kind/name") to what this process
	// last wrote of it (*written), until the cache shows that.
	wrote sync.Map
	// writing maps a generated object ("kind/name") to a channel closed
	// once the write of it in flight has its answer, and wrote has what
	// it returned (see echo).
	writing sync.Map
	// blocked maps a generated object ("kind/name") that holds the name of
	// a host without being its object to that host's work key, so that a
	// change of the object reconciles the host again (see mapper).
	blocked sync.Map

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
// annotations and the whole spec. It writes nothing when the object
// already is so. It never touches an object of that name that is not
// labelled as ours, or that records another host than desired
// (convert.AnnotationHost): sources then get a Warning event, and put
// answers errTaken (the host is reconciled again when that object changes,
// or after TakenRetry if it is not labelled). The cache holds slimmed
// copies only (see slimGenerated), which keep what a write needs to be
// safe: the owner, the recorded host and the resourceVersion. So a create
// is sent at once (see create), and an update is one JSON patch that
// applies only to the version of the object the cache holds (see
// replacing), or to the version this process last wrote while the cache
// has not seen it (see written); only when the object moved on since is
// it read from the API server and updated. A write the API server
// refuses as too large gets a Warning event on sources, and put answers
// errHeld: it is not retried until something changes.
func (w *writer) put(ctx context.Context, desired client.Object, sources []*networkingv1.Ingress) error {
	key, kind := client.ObjectKeyFromObject(desired), gvkOf(desired).Kind
	host := desired.GetAnnotations()[convert.AnnotationHost]
	cached := emptyLike(desired)
	err := w.client.Get(ctx, key, cached, client.UnsafeDisableDeepCopy) // read-only
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	found := err == nil
	mine := w.lastWrite(kind, desired.GetName(), host)
	if found && mine != nil && mine.before != cached.GetResourceVersion() {
		// The cache has that write (or, if it missed its event, a later
		// version): it knows better.
		w.wrote.CompareAndDelete(kind+"/"+desired.GetName(), mine)
		mine = nil
	}
	var version string
	switch {
	case mine != nil && found && mine.digest == digestOf(desired):
		return nil // the cache is one write behind, and that write was desired
	case mine != nil:
		// The cache has not seen this process's last write of the object
		// yet: the version written is ours and records host.
		version = mine.version
	case !found:
		return w.create(ctx, desired, sources)
	case !records(cached, host):
		w.collision(kind, desired.GetNamespace(), desired.GetName(), host, cached, sources)
		return errTaken
	case upToDate(cached, desired):
		w.blocked.Delete(kind + "/" + desired.GetName())
		return nil
	default:
		w.blocked.Delete(kind + "/" + desired.GetName())
		version = cached.GetResourceVersion()
	}
	patch, err := replacing(version, desired)
	if err != nil {
		return err
	}
	log.FromContext(ctx).Info("updating", "kind", kind, "name", desired.GetName())
	into := emptyLike(desired) // not cached: the cache's own copy
	into.SetNamespace(key.Namespace)
	into.SetName(key.Name)
	err = w.send(kind+"/"+desired.GetName(), func() error {
		return w.client.Patch(ctx, into, patch, client.FieldOwner(FieldOwner))
	}, func() *written {
		if into.GetResourceVersion() == version {
			return nil // nothing changed, and no event comes
		}
		return writtenOf(version, into, desired)
	})
	switch {
	case err == nil:
		return nil
	case apierrors.IsNotFound(err) && !found:
		w.wrote.Delete(kind + "/" + desired.GetName()) // deleted since it was written
		return w.create(ctx, desired, sources)
	case !apierrors.IsInvalid(err) && !apierrors.IsConflict(err):
		return w.refused(desired, sources, err)
	}
	// The object is no longer at that version (the patch's test failed),
	// or the patch does not apply to it.
	if mine != nil {
		w.wrote.CompareAndDelete(kind+"/"+desired.GetName(), mine) // moved on
	}
	live := emptyLike(desired)
	if err := w.api.Get(ctx, key, live); err != nil {
		return err // gone since: the cache will tell, and the key is retried
	}
	if !records(live, host) {
		return fmt.Errorf("%s %s no longer records host %q as ours; retrying", kind, desired.GetName(), host)
	}
	return w.update(ctx, live, desired, sources)
}

// written is what a write of a generated object by this process
// returned: kept until the cache shows that version, so that a write
// before then is a patch of it (the cache's own version would be older,
// and the patch refused), and so that the watch event of the write does
// not reconcile its key again (see echo).
type written struct {
	// host is the host written for, digest the digestOf what was written,
	// version the resourceVersion it got; before the version the write
	// replaced ("" for a create). While the cache holds before (or, after
	// a create, nothing), it is exactly one write behind: watch events
	// arrive in order, and a relist that skipped the write's event would
	// bring a later version. Once it holds another, the entry is dropped.
	host, digest, version, before string
}

func writtenOf(before string, live, desired client.Object) *written {
	return &written{host: desired.GetAnnotations()[convert.AnnotationHost], digest: digestOf(desired), version: live.GetResourceVersion(), before: before}
}

// lastWrite is what this process last wrote of the object of that kind
// and name for host, until the cache shows it; nil if there is none.
func (w *writer) lastWrite(kind, name, host string) *written {
	v, ok := w.wrote.Load(kind + "/" + name)
	if !ok || v.(*written).host != host {
		return nil
	}
	return v.(*written)
}

// echo reports whether the watch event of o is the one of this process's
// last write of it, which the writer wrote for the host's current
// Ingresses: reconciling its key again would find nothing to do. It
// forgets that write, so that a later event of the same version (a
// resync, a delete) reconciles the key.
//
// The API server can send a write's event before the writer has read
// its answer, and a busy process may handle the event first. So while a
// write of the object is in flight, echo waits for its answer, up to
// echoWait; after that the event counts as another's, and the key is
// reconciled again, which is safe. Without the wait, such an event
// reconciled the host again while the cache lacked the host's other
// object, which was then patched to what it already was (in 1 of 3 to 6
// runs of TestAPICallsPerChange on a loaded 2-core machine).
func (w *writer) echo(kind string, o client.Object) bool {
	key := kind + "/" + o.GetName()
	if answered, ok := w.writing.Load(key); ok {
		t := time.NewTimer(echoWait)
		select {
		case <-answered.(chan struct{}):
		case <-t.C:
		}
		t.Stop()
	}
	v, ok := w.wrote.Load(key)
	return ok && v.(*written).version == o.GetResourceVersion() && w.wrote.CompareAndDelete(key, v)
}

// echoWait bounds how long echo waits for a write's answer: it holds up
// the handling of every event of that kind in the meantime.
const echoWait = time.Second

// send makes one write of the object ("kind/name"), marked as in flight
// for echo until its answer is in; when the write succeeds, what got
// returns (nil: nothing changed) is stored in wrote first.
func (w *writer) send(key string, write func() error, got func() *written) error {
	answered := make(chan struct{})
	w.writing.Store(key, answered)
	defer func() {
		w.writing.CompareAndDelete(key, answered)
		close(answered)
	}()
	err := write()
	if err != nil {
		return err
	}
	if wr := got(); wr != nil {
		w.wrote.Store(key, wr)
	}
	return nil
}

// create creates desired, which the cache does not hold. A create cannot
// overwrite anything, so it is sent without asking first whether the name
// is free. Only when it is not is the object read: one of ours for host
// that the cache does not hold yet (another writer's, or ours, ahead of
// the watch) is updated from what was read; any other is a collision.
func (w *writer) create(ctx context.Context, desired client.Object, sources []*networkingv1.Ingress) error {
	key, kind := client.ObjectKeyFromObject(desired), gvkOf(desired).Kind
	host := desired.GetAnnotations()[convert.AnnotationHost]
	log.FromContext(ctx).Info("creating", "kind", kind, "name", desired.GetName())
	err := w.send(kind+"/"+desired.GetName(), func() error {
		return w.client.Create(ctx, desired, client.FieldOwner(FieldOwner))
	}, func() *written { return writtenOf("", desired, desired) })
	if !apierrors.IsAlreadyExists(err) {
		w.blocked.Delete(kind + "/" + desired.GetName())
		return w.refused(desired, sources, err)
	}
	live := emptyLike(desired)
	if err := w.api.Get(ctx, key, live); err != nil {
		return err // gone since: the key is retried
	}
	if !records(live, host) {
		w.collision(kind, desired.GetNamespace(), desired.GetName(), host, live, sources)
		return errTaken
	}
	w.blocked.Delete(kind + "/" + desired.GetName())
	return w.update(ctx, live, desired, sources)
}

// update makes live, read from the API server and ours for desired's
// host, equal to desired in the fields we own, keeping the labels and
// annotations others set; it writes nothing when live already is so.
func (w *writer) update(ctx context.Context, live, desired client.Object, sources []*networkingv1.Ingress) error {
	if proto.Equal(specOf(live), specOf(desired)) && hasManagedMeta(live, desired) {
		return nil // the cache was behind
	}
	live.SetLabels(merged(live.GetLabels(), desired.GetLabels()))
	live.SetAnnotations(merged(live.GetAnnotations(), desired.GetAnnotations()))
	proto.Reset(specOf(live))
	proto.Merge(specOf(live), specOf(desired))
	kind, before := gvkOf(desired).Kind, live.GetResourceVersion()
	log.FromContext(ctx).Info("updating", "kind", kind, "name", desired.GetName())
	err := w.send(kind+"/"+desired.GetName(), func() error {
		return w.client.Update(ctx, live, client.FieldOwner(FieldOwner))
	}, func() *written { return writtenOf(before, live, desired) })
	return w.refused(desired, sources, err)
}

// replacing is the JSON patch (RFC 6902) that makes the object at
// resourceVersion version equal to desired in the fields we own: it
// applies only to that version (the API server refuses it as invalid
// otherwise), replaces the whole spec, as an update would, and sets
// desired's labels and annotations one key at a time, so that those
// others set stay. The version patched records desired's host as ours
// (the cache's copy says so, or this process wrote it), and so has labels
// and annotations to add keys to.
func replacing(version string, desired client.Object) (client.Patch, error) {
	raw, err := json.Marshal(desired)
	if err != nil {
		return nil, err
	}
	var whole struct {
		Spec json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(raw, &whole); err != nil {
		return nil, err
	}
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	ops := []op{{"test", "/metadata/resourceVersion", version}, {"add", "/spec", whole.Spec}}
	for _, m := range []struct {
		path string
		kv   map[string]string
	}{{"/metadata/labels/", desired.GetLabels()}, {"/metadata/annotations/", desired.GetAnnotations()}} {
		for _, k := range slices.Sorted(maps.Keys(m.kv)) {
			ops = append(ops, op{"add", m.path + pointerEscaper.Replace(k), m.kv[k]})
		}
	}
	data, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	return client.RawPatch(types.JSONPatchType, data), nil
}

// pointerEscaper escapes a key for a JSON pointer (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// ownerOf returns whether obj is labelled as ours and, if so, the host it
// records (convert.AnnotationHost; "" when it records none).
func ownerOf(obj client.Object) (host string, ours bool) {
	if obj.GetLabels()[convert.LabelManagedBy] != convert.ManagedBy {
		return "", false
	}
	return obj.GetAnnotations()[convert.AnnotationHost], true
}

// records reports whether obj is labelled as ours and records host.
func records(obj client.Object, host string) bool {
	recorded, ours := ownerOf(obj)
	return ours && recorded == host
}

// collision reports to sources, the Ingresses of host, that the object of
// that kind and name is not host's: it is not labelled as ours, or it
// records another host (two hosts whose names collide, or an edit of
// its annotation). The object's changes reconcile host again.
func (w *writer) collision(kind, namespace, name, host string, found client.Object, sources []*networkingv1.Ingress) {
	w.blocked.Store(kind+"/"+name, host)
	msg := fmt.Sprintf("%s %s/%s already exists without label %s=%s, so ingressguard leaves it alone and this Ingress is not served through it; rename or remove that object",
		kind, namespace, name, convert.LabelManagedBy, convert.ManagedBy)
	if recorded, ours := ownerOf(found); ours {
		msg = fmt.Sprintf("%s %s/%s, the name of host %q's %s, records host %q in annotation %s (two hosts whose names collide, or an edit of that annotation), so ingressguard neither overwrites nor deletes it and host %q is not served through it; remove that object, or set its annotation back to %q",
			kind, namespace, name, host, kind, recorded, convert.AnnotationHost, host, host)
	}
	for _, ing := range sources {
		w.report(ing, "collision/"+kind+"/"+name+"/"+ing.Namespace+"/"+ing.Name, ReasonNameCollision, []string{msg})
	}
}

// refused reports to sources a write of desired that the API server
// refused as too large, and then returns errHeld: retrying the same write
// would only be refused again, and a change of the host's Ingresses
// reconciles it again. Other errors are returned as they are.
func (w *writer) refused(desired client.Object, sources []*networkingv1.Ingress, err error) error {
	if !tooLarge(err) {
		return err
	}
	kind := gvkOf(desired).Kind
	host := desired.GetAnnotations()[convert.AnnotationHost]
	msg := fmt.Sprintf("the API server refused to store %s %s/%s, which serves host %q, as too large (%v), so every Ingress on that host keeps the routes it had before; take paths off the host's Ingresses (ingressguard admits at most %d routes and %d bytes of VirtualService per host, so some were admitted before those limits or while the webhook was down)",
		kind, desired.GetNamespace(), desired.GetName(), host, err, convert.MaxRoutesPerHost, convert.MaxVirtualServiceBytes)
	for _, ing := range sources {
		w.report(ing, "too-large/"+kind+"/"+desired.GetName()+"/"+ing.Namespace+"/"+ing.Name, ReasonTooLarge, []string{msg})
	}
	return errHeld
}

// errHeld is put's answer when it did not write the object and told the
// object's Ingresses why instead (a name another owner holds, an object
// too large): the key must not be retried for it, and what the object
// serves is not served.
var errHeld = errors.New("not written; the Ingresses were told why")

// errTaken is the errHeld of a name that another object holds (see
// collision). An object without ingressguard's label is not watched, so
// its going brings no event: the host is tried again after TakenRetry.
var errTaken = fmt.Errorf("%w: another object holds the name", errHeld)

// ignoreHeld is err, or nil for errHeld.
func ignoreHeld(err error) error {
	if errors.Is(err, errHeld) {
		return nil
	}
	return err
}

// tooLarge reports whether the API server refused a write for the
// object's size: the request body over its limit (413), or etcd or the
// API server's etcd client refusing the object (500 with their messages).
func tooLarge(err error) bool {
	if apierrors.IsRequestEntityTooLargeError(err) {
		return true
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Code != http.StatusInternalServerError {
		return false
	}
	msg := status.Status().Message
	return strings.Contains(msg, "request is too large") || strings.Contains(msg, "trying to send message larger than max")
}

// cached reads the cached copy of the generated object of that kind and
// name; nil if there is none.
func (w *writer) cached(ctx context.Context, gvk schema.GroupVersionKind, name string) (client.Object, error) {
	o, err := w.client.Scheme().New(gvk)
	if err != nil {
		return nil, err
	}
	obj := o.(client.Object)
	err = w.client.Get(ctx, types.NamespacedName{Namespace: w.settings.GatewayNamespace, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// delete deletes obj, as long as it is the object that was read.
func (w *writer) delete(ctx context.Context, gvk schema.GroupVersionKind, obj client.Object) error {
	log.FromContext(ctx).Info("deleting", "kind", gvk.Kind, "name", obj.GetName())
	w.wrote.Delete(gvk.Kind + "/" + obj.GetName())
	uid := obj.GetUID()
	return client.IgnoreNotFound(w.client.Delete(ctx, obj, client.Preconditions{UID: &uid}))
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
