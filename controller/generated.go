package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// Annotations the reconcilers write on generated objects, besides
// convert's. Together they tell, from metadata alone, whether the spec is
// still the one ingressguard wrote: the API server adds one to
// metadata.generation whenever the spec changes, so a generation other
// than AnnotationSpecGeneration means someone else changed the spec.
const (
	// AnnotationSpecDigest holds the SHA-256 (hex) of the spec's
	// deterministic protobuf encoding, as ingressguard last wrote it.
	AnnotationSpecDigest = "ingressguard.io/spec-digest"
	// AnnotationSpecGeneration holds the metadata.generation that write
	// gave the object.
	AnnotationSpecGeneration = "ingressguard.io/spec-generation"
)

var (
	gatewayGVK             = istionet.SchemeGroupVersion.WithKind("Gateway")
	virtualServiceGVK      = istionet.SchemeGroupVersion.WithKind("VirtualService")
	destinationRuleGVK     = istionet.SchemeGroupVersion.WithKind("DestinationRule")
	authorizationPolicyGVK = istiosec.SchemeGroupVersion.WithKind("AuthorizationPolicy")
)

// generatedGVKs are the kinds ingressguard generates.
var generatedGVKs = []schema.GroupVersionKind{gatewayGVK, virtualServiceGVK, destinationRuleGVK, authorizationPolicyGVK}

// metadataOf returns an empty metadata-only object of kind gvk: the cache
// and the clients read it through the metadata API.
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

// digestKey is the annotation under which a cached Gateway or
// VirtualService holds its digest (see slimGenerated). Only cached copies
// have it: it is never written.
const digestKey = "ingressguard.io/cached-digest"

// Keys of the labels and annotations ingressguard writes on generated
// objects. Digests cover their values and nothing else, so that labels and
// annotations others add (kubectl's last-applied-configuration is a copy
// of the whole object) neither cost cache memory nor count as a
// difference. AnnotationSpecGeneration is compared on its own.
var (
	managedLabelKeys      = []string{convert.LabelManagedBy, convert.LabelHost}
	managedAnnotationKeys = []string{convert.AnnotationHost, convert.AnnotationIngresses, AnnotationSpecDigest}
)

// digestOf is the SHA-256 (hex) of the managed labels and annotations that
// are set: objects with the same managed metadata have equal digests.
func digestOf(labels, annotations map[string]string) string {
	h := sha256.New()
	for _, part := range []struct {
		kind string
		keys []string
		m    map[string]string
	}{{"label", managedLabelKeys, labels}, {"annotation", managedAnnotationKeys, annotations}} {
		for _, k := range part.keys {
			if v, ok := part.m[k]; ok {
				fmt.Fprintf(h, "%s %q=%q\n", part.kind, k, v)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// specChanged is the cached digest of an object whose spec changed since
// ingressguard wrote it; no digestOf result equals it.
const specChanged = "the spec changed since ingressguard wrote it"

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

// slimGenerated is the cache transform of the metadata of the generated
// objects (Gateways, VirtualServices, DestinationRules,
// AuthorizationPolicies). It keeps their kind, name, namespace, UID,
// resourceVersion, generation and deletion timestamp; of the labels only
// app.kubernetes.io/managed-by (as oursLabels); of the annotations only
// the one the watches map to work keys (convert.AnnotationHost); and under digestKey, the digest of the managed
// labels and annotations, or specChanged if the generation is not
// AnnotationSpecGeneration. Tombstones, and the objects it made, pass
// unchanged: client-go applies transforms twice to the objects of a
// streamed initial list.
func slimGenerated(in any) (any, error) {
	m, ok := in.(*metav1.PartialObjectMetadata)
	if !ok || slimmed(&m.ObjectMeta) {
		return in, nil
	}
	digest := specChanged
	if m.Annotations[AnnotationSpecGeneration] == strconv.FormatInt(m.Generation, 10) {
		digest = digestOf(m.Labels, m.Annotations)
	}
	out := &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta, ObjectMeta: metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, DeletionTimestamp: m.DeletionTimestamp, ManagedFields: slimMark,
	}}
	if m.Labels[convert.LabelManagedBy] == convert.ManagedBy {
		out.Labels = oursLabels
	}
	out.Annotations = map[string]string{digestKey: digest}
	if v, ok := m.Annotations[convert.AnnotationHost]; ok {
		out.Annotations[convert.AnnotationHost] = v
	}
	return out, nil
}

// upToDate reports whether a cached copy shows the object as desired
// (stamped with AnnotationSpecDigest) wants it: the same managed labels and
// annotations, and a spec nobody changed since ingressguard wrote it. A
// copy from a cache built without slimGenerated has no digest and is never
// up to date by this test, nor is an object with a managed key that desired
// does not set; put then reads the object, and writes only if it differs.
func upToDate(cached *metav1.PartialObjectMetadata, desired client.Object) bool {
	return cached.Annotations[digestKey] == digestOf(desired.GetLabels(), desired.GetAnnotations())
}
