// Package webhook serves ingressguard's admission webhooks for
// networking.k8s.io/v1 Ingresses (SPEC sections 1, 3 and 4):
//
//   - the mutating webhook sets a missing pathType with a minimal JSON patch
//     and a warning per defaulted path;
//   - the validating webhook rejects what Istio cannot serve, with one cause
//     per field, and passes the rest with warnings.
//
// Both only call package convert's rules. Ingresses that are not ours pass
// untouched. Every AdmissionReview is treated as hostile input: anything but
// a decodable networking.k8s.io/v1 Ingress is refused with a message that
// says what was wrong.
//
// Request bodies are bounded: at most MaxRequestBytes are read, and a
// larger body is answered with a 413 error response without being decoded;
// the Content-Type is checked before the body is read; a body must arrive
// within ReadTimeout; and at most MaxBytesInFlight bytes of bodies are
// held at once, beyond which requests get 429 (see gate.go).
package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"

	"github.com/ingressguard/ingressguard/convert"
)

// Fixed paths of the webhooks on the webhook server.
const (
	MutatePath   = "/mutate-networking-k8s-io-v1-ingress"
	ValidatePath = "/validate-networking-k8s-io-v1-ingress"
)

// Syncer is implemented by a convert.View that loads cluster state
// asynchronously, such as lookup.Informers. Until Synced is true the handlers
// refuse requests (HTTP 503 in the response) instead of judging Ingresses
// against incomplete state.
type Syncer interface {
	Synced() bool
}

// Admitter is implemented by a convert.View that gives each admission a
// view of its own to judge it against, such as lookup.Informers, whose
// packed Ingresses an admission then decodes once.
type Admitter interface {
	Admission() convert.View
}

// Register serves the mutating and validating handlers on mgr's webhook
// server at MutatePath and ValidatePath.
func Register(mgr manager.Manager, settings convert.Settings, cluster convert.View) {
	srv := mgr.GetWebhookServer()
	for path, h := range Handlers(settings, cluster) {
		srv.Register(path, h)
	}
}

// Handlers returns the HTTP handlers of the mutating and validating
// webhooks by path (MutatePath, ValidatePath), as Register serves them.
func Handlers(settings convert.Settings, cluster convert.View) map[string]http.Handler {
	g := newGate(MaxBytesInFlight, ReadTimeout)
	return map[string]http.Handler{
		MutatePath:   newReviewHandler(webhookMutate, NewMutator(settings, cluster), g),
		ValidatePath: newReviewHandler(webhookValidate, NewValidator(settings, cluster), g),
	}
}

var (
	ingressKind       = metav1.GroupVersionKind{Group: networkingv1.GroupName, Version: "v1", Kind: "Ingress"}
	ingressAPIVersion = networkingv1.SchemeGroupVersion.String()
	ingressResource   = metav1.GroupVersionResource{Group: networkingv1.GroupName, Version: "v1", Resource: "ingresses"}
)

// ingressDecoder decodes networking.k8s.io/v1 objects only.
var ingressDecoder = decoderOf(networkingv1.AddToScheme)

// decoderOf is the API machinery's universal deserializer for the types
// that add registers, and no others. The webhook's decoders are allow-lists
// for hostile input, not ingressguard's scheme (internal/scheme): with
// every type of that scheme, an Ingress review carrying a Pod would decode
// and be refused as the wrong kind rather than as undecodable, changing the
// refusal's message and metrics reason.
func decoderOf(add func(*runtime.Scheme) error) runtime.Decoder {
	s := runtime.NewScheme()
	utilruntime.Must(add(s))
	return serializer.NewCodecFactory(s).UniversalDeserializer()
}

// refusal is a request that cannot be judged, with its metrics reason.
type refusal struct {
	code    int32
	reason  string
	message string
}

// handler is what the mutating and validating handlers share.
type handler struct {
	name     string // metrics label: mutate or validate
	settings convert.Settings
	cluster  convert.View
}

// ingress returns the Ingress under admission, or why there is none. It
// is the Ingress the review was decoded with (withIngress) if there is one,
// else request.object decoded.
func (h handler) ingress(ctx context.Context, req admission.Request) (*networkingv1.Ingress, *refusal) {
	if req.Kind != ingressKind || req.Resource != ingressResource || req.SubResource != "" {
		return nil, &refusal{http.StatusBadRequest, reasonWrongKind, fmt.Sprintf(
			"ingressguard admits only networking.k8s.io/v1 Ingresses, but was sent %s (resource %s); the webhook configuration's rules must select only resource ingresses of apiGroup networking.k8s.io, version v1",
			describeKind(req.Kind), describeResource(req.Resource, req.SubResource))}
	}
	if ing, ok := ctx.Value(decodedIngress{}).(*networkingv1.Ingress); ok {
		return h.synced(ing)
	}
	if len(req.Object.Raw) == 0 {
		return nil, &refusal{http.StatusBadRequest, reasonMissingObject, fmt.Sprintf(
			"the AdmissionReview for %s has no request.object, so there is no Ingress to check", req.Operation)}
	}
	ing, gvk, err := decodeIngress(req.Object.Raw)
	if err != nil {
		return nil, &refusal{http.StatusBadRequest, reasonUndecodable, fmt.Sprintf(
			"request.object is not a valid networking.k8s.io/v1 Ingress: %v", err)}
	}
	if k := gvk; k != ingressKind {
		return nil, &refusal{http.StatusBadRequest, reasonWrongKind, fmt.Sprintf(
			"request.object is a %s, not a networking.k8s.io/v1 Ingress", describeKind(k))}
	}
	return h.synced(ing)
}

// decodedIngress is the context key of the Ingress that reviewHandler
// decoded together with its review.
type decodedIngress struct{}

// withIngress carries ing, decoded with the review, to the handlers.
func withIngress(ctx context.Context, ing *networkingv1.Ingress) context.Context {
	return context.WithValue(ctx, decodedIngress{}, ing)
}

// view is the view to judge one admission against.
func (h handler) view() convert.View {
	if a, ok := h.cluster.(Admitter); ok {
		return a.Admission()
	}
	return h.cluster
}

// synced returns ing, or a refusal while the cluster state is loading.
func (h handler) synced(ing *networkingv1.Ingress) (*networkingv1.Ingress, *refusal) {
	if s, ok := h.cluster.(Syncer); ok && !s.Synced() {
		return nil, &refusal{http.StatusServiceUnavailable, reasonNotSynced,
			"ingressguard is still loading IngressClasses, Services, Ingresses, Secrets and Certificates from the API server; retry in a few seconds"}
	}
	return ing, nil
}

// decodeIngress decodes request.object exactly as ingressDecoder does, in
// one pass when it can. ingressDecoder reads apiVersion and kind in a first
// pass (matching keys case-insensitively), then decodes the object in a
// second (matching them case-sensitively). When the case-sensitive pass
// alone finds apiVersion networking.k8s.io/v1 and kind Ingress, and the
// object has no other spelling of those keys (plainKeys), the first pass
// would have found the same, and the object is the same. The API server
// sends exactly that; anything else takes ingressDecoder's path, with its
// errors.
func decodeIngress(raw []byte) (*networkingv1.Ingress, metav1.GroupVersionKind, error) {
	var ing networkingv1.Ingress
	if utilyaml.IsJSONBuffer(raw) {
		err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &ing)
		if err == nil && ing.APIVersion == ingressAPIVersion && ing.Kind == ingressKind.Kind && plainKeys(raw) {
			return &ing, ingressKind, nil
		}
		ing = networkingv1.Ingress{}
	}
	_, gvk, err := ingressDecoder.Decode(raw, nil, &ing)
	if err != nil {
		return nil, metav1.GroupVersionKind{}, err
	}
	return &ing, metav1.GroupVersionKind(*gvk), nil
}

// describeKind renders a request's kind as "networking.k8s.io/v1 Ingress".
func describeKind(k metav1.GroupVersionKind) string {
	if k == (metav1.GroupVersionKind{}) {
		return "an empty kind"
	}
	return schema.GroupVersion{Group: k.Group, Version: k.Version}.String() + " " + k.Kind
}

// describeResource renders a request's resource as
// "networking.k8s.io/v1 ingresses/status".
func describeResource(r metav1.GroupVersionResource, sub string) string {
	if r == (metav1.GroupVersionResource{}) {
		return "none"
	}
	s := schema.GroupVersion{Group: r.Group, Version: r.Version}.String() + " " + r.Resource
	if sub != "" {
		s += "/" + sub
	}
	return s
}

// refuse answers a request that cannot be judged.
func (h handler) refuse(ctx context.Context, r *refusal) admission.Response {
	record(h.name, resultError, r.reason)
	logf.FromContext(ctx).Info("refused an admission request", "reason", r.reason, "message", r.message)
	return admission.Errored(r.code, errors.New(r.message))
}

// answer records and logs a decision about an Ingress.
func (h handler) answer(ctx context.Context, resp admission.Response, result, reason string) admission.Response {
	record(h.name, result, reason)
	if log := logf.FromContext(ctx).V(1); log.Enabled() {
		log.Info("admission decision", "result", result, "reason", reason, "warnings", len(resp.Warnings))
	}
	return resp
}

// ours returns the Ingress under admission when it is one of ours to judge;
// otherwise the answer to send right away.
func (h handler) ours(ctx context.Context, req admission.Request) (*networkingv1.Ingress, *admission.Response) {
	if !checked(req.Operation) {
		resp := h.answer(ctx, admission.Allowed(""), resultAllowed, reasonNotChecked)
		return nil, &resp
	}
	ing, r := h.ingress(ctx, req)
	if r != nil {
		resp := h.refuse(ctx, r)
		return nil, &resp
	}
	if !h.settings.Ours(ing, h.cluster) {
		resp := h.answer(ctx, admission.Allowed(""), resultAllowed, reasonNotOurs)
		return nil, &resp
	}
	return ing, nil
}

// checked reports whether op is one that the webhooks judge.
func checked(op admissionv1.Operation) bool {
	return op == admissionv1.Create || op == admissionv1.Update
}
