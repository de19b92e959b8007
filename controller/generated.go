package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

var (
	gatewayGVK             = istionet.SchemeGroupVersion.WithKind("Gateway")
	virtualServiceGVK      = istionet.SchemeGroupVersion.WithKind("VirtualService")
	destinationRuleGVK     = istionet.SchemeGroupVersion.WithKind("DestinationRule")
	authorizationPolicyGVK = istiosec.SchemeGroupVersion.WithKind("AuthorizationPolicy")
)

// hostKinds holds an empty object of each kind the host reconciler writes,
// one per host, named convert.ObjectName(host).
var hostKinds = []client.Object{&istionet.Gateway{}, &istionet.VirtualService{}, &istiosec.AuthorizationPolicy{}}

// generatedKinds holds an empty object of each kind the reconcilers write
// (the kinds gvkOf, emptyLike and specOf know): the cache covers each, and
// every write and delete checks its owner alike. DestinationRules are the
// destination reconciler's, one per backend Service.
var generatedKinds = append(hostKinds[:len(hostKinds):len(hostKinds)], &istionet.DestinationRule{})

// metadataOf returns an empty metadata-only object of kind gvk: isOurs
// reads it through the metadata API when the cache lacks a name, to learn
// whether an object that is not ours holds it.
func metadataOf(gvk schema.GroupVersionKind) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	return m
}

// gvkOf returns the kind of a generated object.
func gvkOf(obj client.Object) schema.GroupVersionKind {
	switch obj.(type) {
	case *istionet.Gateway:
		return gatewayGVK
	case *istionet.VirtualService:
		return virtualServiceGVK
	case *istionet.DestinationRule:
		return destinationRuleGVK
	case *istiosec.AuthorizationPolicy:
		return authorizationPolicyGVK
	}
	panic(fmt.Sprintf("controller: %T is not a generated object", obj))
}

// emptyLike returns an empty object of obj's type, to read into.
func emptyLike(obj client.Object) client.Object {
	switch obj.(type) {
	case *istionet.Gateway:
		return &istionet.Gateway{}
	case *istionet.VirtualService:
		return &istionet.VirtualService{}
	case *istionet.DestinationRule:
		return &istionet.DestinationRule{}
	case *istiosec.AuthorizationPolicy:
		return &istiosec.AuthorizationPolicy{}
	}
	panic(fmt.Sprintf("controller: %T is not a generated object", obj))
}

// specOf returns the protobuf spec of a generated object.
func specOf(obj client.Object) proto.Message {
	switch o := obj.(type) {
	case *istionet.Gateway:
		return &o.Spec
	case *istionet.VirtualService:
		return &o.Spec
	case *istionet.DestinationRule:
		return &o.Spec
	case *istiosec.AuthorizationPolicy:
		return &o.Spec
	}
	panic(fmt.Sprintf("controller: %T is not a generated object", obj))
}

// specDigest is the SHA-256 (hex) of a spec's deterministic protobuf
// encoding: equal specs have equal digests.
func specDigest(spec proto.Message) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(spec)
	if err != nil {
		return "unencodable: " + err.Error() // equal to no wanted spec's digest
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// digestKey is the annotation under which a cached generated object holds
// its digest (see slimGenerated). Only cached copies have it: it is never
// written, and a copy of it on a live object is dropped by slimGenerated.
const digestKey = "ingressguard.io/cached-digest"

// Keys of the labels and annotations ingressguard writes on generated
// objects. Digests cover their values and nothing else, so that labels and
// annotations others add (kubectl's last-applied-configuration is a copy
// of the whole object) neither cost cache memory nor count as a
// difference.
var (
	managedLabelKeys      = []string{convert.LabelManagedBy, convert.LabelHost}
	managedAnnotationKeys = []string{convert.AnnotationHost, convert.AnnotationIngresses}
)

// digestOf is the SHA-256 (hex) of obj's spec (specDigest) and of the
// managed labels and annotations that are set: objects with the same spec
// and managed metadata have equal digests, whatever else they carry.
func digestOf(obj client.Object) string {
	h := sha256.New()
	fmt.Fprintf(h, "spec %s\n", specDigest(specOf(obj)))
	for _, part := range []struct {
		kind string
		keys []string
		m    map[string]string
	}{{"label", managedLabelKeys, obj.GetLabels()}, {"annotation", managedAnnotationKeys, obj.GetAnnotations()}} {
		for _, k := range part.keys {
			if v, ok := part.m[k]; ok {
				fmt.Fprintf(h, "%s %q=%q\n", part.kind, k, v)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// oursLabels is the Labels map of every cached copy that is labelled as
// ours, shared by all of them; nothing may change it (the cache's readers
// get deep copies).
var oursLabels = map[string]string{convert.LabelManagedBy: convert.ManagedBy}

// slimMark marks the objects slimGenerated made: their managedFields
// share its array. Nothing decoded from the API server can, so the mark
// cannot be forged by an annotation.
var slimMark = make([]metav1.ManagedFieldsEntry, 0, 1)

// slimmed reports whether slimGenerated made m.
func slimmed(m *metav1.ObjectMeta) bool {
	return cap(m.ManagedFields) > 0 && &m.ManagedFields[:1][0] == &slimMark[:1][0]
}

// slimGenerated is the cache transform of generated objects. The watch
// brings each one whole; the cache keeps an object of the same type with
// an empty spec and of the metadata only its kind, name, namespace, UID,
// resourceVersion, generation and deletion timestamp; of the labels
// app.kubernetes.io/managed-by (as oursLabels); of the annotations the
// recorded host (convert.AnnotationHost: the watches map it to work keys,
// and writes check it) and, under digestKey, digestOf the live object.
// The digest is of the spec the API server holds, so no annotation on the
// object can make an edited spec look unchanged. Tombstones, and the
// objects it made, pass unchanged: client-go applies transforms twice to
// the objects of a streamed initial list.
func slimGenerated(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok {
		return in, nil
	}
	m, ok := obj.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
	if !ok || slimmed(m) {
		return in, nil
	}
	out := emptyLike(obj)
	out.GetObjectKind().SetGroupVersionKind(obj.GetObjectKind().GroupVersionKind())
	om := out.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
	*om = metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, DeletionTimestamp: m.DeletionTimestamp, ManagedFields: slimMark,
	}
	if m.Labels[convert.LabelManagedBy] == convert.ManagedBy {
		om.Labels = oursLabels
	}
	om.Annotations = map[string]string{digestKey: digestOf(obj)}
	if v, ok := m.Annotations[convert.AnnotationHost]; ok {
		om.Annotations[convert.AnnotationHost] = v
	}
	return out, nil
}

// upToDate reports whether a cached copy shows the object as desired
// wants it: the same spec and managed labels and annotations. A copy from
// a cache built without slimGenerated has no digest and is never up to
// date by this test, nor is an object with a managed key that desired
// does not set; put then reads the object, and writes only if it differs.
func upToDate(cached, desired client.Object) bool {
	return cached.GetAnnotations()[digestKey] == digestOf(desired)
}
