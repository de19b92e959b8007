package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Values of the webhook label.
const (
	webhookMutate   = "mutate"
	webhookValidate = "validate"
)

// Values of the result label.
const (
	resultAllowed = "allowed"
	resultPatched = "patched"
	resultDenied  = "denied"
	resultError   = "error"
)

// Values of the reason label: a fixed set, so the label's cardinality stays
// bounded whatever the requests contain.
const (
	reasonNotOurs       = "not-ours"      // another controller's Ingress
	reasonNotChecked    = "operation"     // an operation other than CREATE and UPDATE
	reasonDelete        = "delete"        // deletes are always allowed
	reasonDeleting      = "deleting"      // an Ingress being deleted: its errors are only warnings
	reasonGrandfathered = "grandfathered" // an update whose errors the stored Ingress has too: only warnings
	reasonUnchanged     = "unchanged"     // nothing to default
	reasonDefaulted     = "pathtype-defaulted"
	reasonValid         = "valid"
	reasonInvalid       = "invalid"
	reasonWrongKind     = "wrong-kind"     // not a networking.k8s.io/v1 Ingress
	reasonMissingObject = "missing-object" // no request.object
	reasonUndecodable   = "undecodable"    // request.object is not valid JSON of an Ingress
	reasonNotSynced     = "not-synced"     // cluster state not loaded yet
	reasonBadReview     = "bad-review"     // no AdmissionReview: empty, too large, not JSON, undecodable, no request
	reasonBusy          = "busy"           // too many request bytes in flight: 429, retried by the API server
)

// requests counts the admission requests ingressguard answered, those
// that were not AdmissionReviews included (reason bad-review).
var requests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ingressguard_admission_requests_total",
	Help: "Admission requests answered by ingressguard, by webhook (mutate, validate), result (allowed, patched, denied, error) and reason.",
}, []string{"webhook", "result", "reason"})

func init() {
	metrics.Registry.MustRegister(requests)
}

func record(webhook, result, reason string) {
	requests.WithLabelValues(webhook, result, reason).Inc()
}
