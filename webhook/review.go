package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"

	"github.com/ingressguard/ingressguard/internal/lazylog"
)

// MaxRequestBytes bounds the body of an admission request: two objects of
// the API server's 3 MiB request limit plus the review around them, as
// controller-runtime's admission.Webhook bounds it. A larger body is
// answered with a 413 error without being decoded.
const MaxRequestBytes = 7 << 20

var reviewKind = schema.GroupVersionKind{Group: admissionv1.GroupName, Version: "v1", Kind: "AdmissionReview"}

// reviewDecoder decodes admission.k8s.io/v1 AdmissionReviews only: the
// webhook configurations ask the API server for v1.
var reviewDecoder = decoderOf(admissionv1.AddToScheme)

// reviewHandler serves an admission handler over HTTP. It answers as
// controller-runtime's admission.Webhook.ServeHTTP does (a bounded body,
// application/json only, errors as AdmissionReviews with a 4xx code), runs
// the handler through the Webhook's Handle (panics become 500 answers, the
// response gets the request's UID and its JSON patch), and differs in
// three ways:
//
//   - the review and the Ingress in it are decoded in one pass when they
//     can be (see decodeReviewAndIngress), where admission.Webhook reads
//     the review twice and the Ingress was then read again;
//   - the request logger's values, those of admission.DefaultLogConstructor,
//     are made and encoded only if it logs (lazylog.Deferred);
//   - requests refused before the handler runs are counted in
//     ingressguard_admission_requests_total and logged at info level, not
//     as errors: anyone who reaches the port can send them.
//
// Before it reads a body, it refuses a wrong Content-Type or a declared
// length over MaxRequestBytes, and reserves the body's bytes in g, whose
// limit all handlers share (beyond it: 429); the body must then arrive
// within ReadTimeout. A request refused before its body is read gets its
// answer with the connection closed.
type reviewHandler struct {
	name string // metrics label: mutate or validate
	hook *admission.Webhook
	gate *gate
}

// newReviewHandler serves h, whose metrics label is name, with the bytes
// in flight accounted in g.
func newReviewHandler(name string, h admission.Handler, g *gate) *reviewHandler {
	return &reviewHandler{name: name, gate: g, hook: &admission.Webhook{Handler: h, LogConstructor: func(base logr.Logger, req *admission.Request) logr.Logger {
		return lazylog.Deferred(base, func() []any { return requestValues(req) })
	}}}
}

// requestValues are the values admission.DefaultLogConstructor gives a
// request's logger.
func requestValues(req *admission.Request) []any {
	return []any{"object", klog.KRef(req.Namespace, req.Name),
		"namespace", req.Namespace, "name", req.Name,
		"resource", req.Resource, "user", req.UserInfo.Username,
		"requestID", req.UID,
	}
}

func (h *reviewHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reserved, refused := h.gate.admit(w, r)
	if refused != nil {
		// The body stays unread: closing the connection drops it.
		w.Header().Set("Connection", "close")
		if refused.code == http.StatusTooManyRequests {
			h.busy(w, refused)
			return
		}
	} else {
		defer h.gate.release(reserved)
	}
	var req admission.Request
	var ing *networkingv1.Ingress
	if refused == nil {
		var done func()
		req, ing, done, refused = h.read(r)
		if done != nil {
			defer done()
		}
	}
	var resp admission.Response
	if refused != nil {
		record(h.name, resultError, refused.reason)
		logf.Log.WithName("admission").Info("refused a request that is not an AdmissionReview", "webhook", h.name, "code", refused.code, "message", refused.message)
		resp = admission.Errored(refused.code, errors.New(refused.message))
	} else {
		ctx := r.Context()
		if ing != nil {
			ctx = withIngress(ctx, ing)
		}
		resp = h.hook.Handle(ctx, req)
	}
	w.Header().Set("Content-Type", "application/json")
	out := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: reviewKind.Kind}, Response: &resp.AdmissionResponse}
	if err := json.NewEncoder(w).Encode(&out); err != nil {
		// The answer is a plain struct, so only the connection can fail.
		logf.Log.WithName("admission").V(1).Info("could not write an answer", "webhook", h.name, "error", err.Error())
	}
}

// busy answers 429 with Retry-After and a Status, the form on which the API
// server's webhook client retries.
func (h *reviewHandler) busy(w http.ResponseWriter, refused *refusal) {
	record(h.name, resultError, refused.reason)
	logf.Log.WithName("admission").V(1).Info("shed a request: too many bytes in flight", "webhook", h.name)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusTooManyRequests)
	status := metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure,
		Code: http.StatusTooManyRequests, Reason: metav1.StatusReasonTooManyRequests, Message: refused.message,
		Details: &metav1.StatusDetails{RetryAfterSeconds: 1}}
	_ = json.NewEncoder(w).Encode(&status)
}

// tooLarge is the message of a body over MaxRequestBytes.
var tooLarge = fmt.Sprintf("request entity is too large; limit is %d bytes", MaxRequestBytes)

// bodies recycles the buffers request bodies are read into: growing a
// fresh one for every review made a fifth of an admission's garbage. The
// decoded review copies what it keeps, so a buffer is free again once
// decoded. Buffers over maxPooledBody are left to the garbage collector,
// so that one large request does not pin its memory.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 1 << 20

// read returns the admission request in r's body, with its Ingress when
// it was decoded in the same pass, or why there is none. Once the body is
// read, it waits for its turn to be decoded and judged (gate.turn); done,
// when not nil, ends that turn once the answer is written.
func (h *reviewHandler) read(r *http.Request) (_ admission.Request, _ *networkingv1.Ingress, done func(), _ *refusal) {
	if r.Body == nil || r.Body == http.NoBody {
		return admission.Request{}, nil, nil, &refusal{http.StatusBadRequest, reasonBadReview, "request body is empty"}
	}
	defer r.Body.Close()
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBody {
			bodies.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, MaxRequestBytes+1)); err != nil {
		return admission.Request{}, nil, nil, &refusal{http.StatusBadRequest, reasonBadReview, "reading the request body: " + err.Error()}
	}
	body := buf.Bytes()
	if len(body) > MaxRequestBytes {
		return admission.Request{}, nil, nil, &refusal{http.StatusRequestEntityTooLarge, reasonBadReview, tooLarge}
	}
	done, ok := h.gate.turn(r.Context(), len(body))
	if !ok {
		return admission.Request{}, nil, nil, &refusal{http.StatusTooManyRequests, reasonBusy, "the request ended while it waited for another large review to be judged"}
	}
	review, ing, err := decodeReviewAndIngress(body)
	if err != nil {
		return admission.Request{}, nil, done, &refusal{http.StatusBadRequest, reasonBadReview, err.Error()}
	}
	if review.Request == nil {
		return admission.Request{}, nil, done, &refusal{http.StatusBadRequest, reasonBadReview, "the AdmissionReview has no request"}
	}
	return admission.Request{AdmissionRequest: *review.Request}, ing, done, nil
}

// ingressReview is an AdmissionReview whose request.object is read
// straight into an Ingress: the field shadows AdmissionRequest.Object.
type ingressReview struct {
	metav1.TypeMeta `json:",inline"`
	Request         *ingressRequest `json:"request,omitempty"`
}

// ingressRequest is an AdmissionRequest whose object is read as an
// Ingress. Its oldObject stays raw, as AdmissionRequest reads it: the
// validating handler decodes it only to excuse an update's errors that the
// stored Ingress already has.
type ingressRequest struct {
	admissionv1.AdmissionRequest `json:",inline"`
	Object                       *networkingv1.Ingress `json:"object,omitempty"`
}

// decodeReviewAndIngress decodes a review and, in the same pass, the
// Ingress in its request.object, when one case-sensitive pass finds a v1
// AdmissionReview holding a networking.k8s.io/v1 Ingress, and the review
// has one request.object and no other spelling of apiVersion and kind,
// at its top level or the object's (oneObject). The results are then those of decodeReview and
// of decodeIngress on request.object (FuzzDecodeReviewAndIngress checks
// it), except that request.object stays empty (the Ingress is returned
// instead). The API
// server sends exactly that; anything else is decoded by decodeReview
// alone, with no Ingress.
func decodeReviewAndIngress(body []byte) (*admissionv1.AdmissionReview, *networkingv1.Ingress, error) {
	if utilyaml.IsJSONBuffer(body) {
		var r ingressReview
		err := kjson.UnmarshalCaseSensitivePreserveInts(body, &r)
		if err == nil && r.GroupVersionKind() == reviewKind && r.Request != nil &&
			r.Request.Object != nil && r.Request.Object.APIVersion == ingressAPIVersion && r.Request.Object.Kind == ingressKind.Kind &&
			oneObject(body) {
			return &admissionv1.AdmissionReview{TypeMeta: r.TypeMeta, Request: &r.Request.AdmissionRequest}, r.Request.Object, nil
		}
	}
	review, err := decodeReview(body)
	return review, nil, err
}

// decodeReview decodes an admission.k8s.io/v1 AdmissionReview exactly as
// reviewDecoder does, in one pass when it can, by the argument of
// decodeIngress: reviewDecoder reads apiVersion and kind case-insensitively
// first, then the review case-sensitively. When the case-sensitive pass
// alone finds apiVersion admission.k8s.io/v1 and kind AdmissionReview, and
// the review has no other spelling of those keys (plainKeys), the first
// pass would have found the same. The API server sends exactly that;
// anything else takes reviewDecoder's path.
func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var review admissionv1.AdmissionReview
	if utilyaml.IsJSONBuffer(body) {
		err := kjson.UnmarshalCaseSensitivePreserveInts(body, &review)
		if err == nil && review.GroupVersionKind() == reviewKind && plainKeys(body) {
			return &review, nil
		}
		review = admissionv1.AdmissionReview{}
	}
	// As admission.Webhook does: a review without apiVersion and kind is
	// read as a v1 AdmissionReview.
	review.SetGroupVersionKind(reviewKind)
	if _, _, err := reviewDecoder.Decode(body, nil, &review); err != nil {
		return nil, err
	}
	return &review, nil
}
