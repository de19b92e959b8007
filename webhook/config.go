package webhook

import (
	"fmt"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// Names of the webhooks, as the API server and kubectl show them
// ("admission webhook "validate.ingressguard.io" denied the request: ...").
const (
	MutatingWebhookName   = "mutate.ingressguard.io"
	ValidatingWebhookName = "validate.ingressguard.io"
)

// TimeoutSeconds is how long the API server waits for either webhook.
// Answers come from memory, so a small value only bounds an outage.
const TimeoutSeconds = 5

// ConfigOptions say how the API server reaches the webhooks.
type ConfigOptions struct {
	// Name of both configuration objects.
	Name string
	// Settings select which Ingresses are ours (their ingress class).
	Settings convert.Settings
	// Namespace is where ingressguard runs (empty when it runs outside the
	// cluster). Ingresses there are never sent to the webhooks, so a broken
	// webhook cannot lock itself out.
	Namespace string
	// ServiceName is the Service, in Namespace, in front of the webhook
	// server (port 443). Ignored when URL is set.
	ServiceName string
	// URL is the base URL (https://host:port) of a webhook server outside
	// the cluster, such as a local `ingressguard serve`.
	URL string
	// CABundle is the PEM CA that signed the serving certificate.
	CABundle []byte
}

// MatchCondition returns the CEL expression that the API server evaluates
// before calling either webhook (SPEC section 1), so that only Ingresses
// that can be ours are sent: an Ingress with the kubernetes.io/ingress.class
// annotation is sent when it equals the ingress class; else one with no
// spec.ingressClassName is sent (the default IngressClass, looked up by the
// webhook, decides); else one whose class is among istio (the IngressClasses
// of istio.io/ingress-controller) and, in DEFAULT mode, one whose class is
// not among existing (the names of every IngressClass: a class that does
// not exist is ours in that mode). With existing nil (the classes are not
// known yet, as in the install manifests), every Ingress without the
// annotation is sent; MatchConditions keeps the live configurations
// current.
func MatchCondition(settings convert.Settings, istio, existing []string) admissionregistrationv1.MatchCondition {
	annotation := strconv.Quote(convert.ClassAnnotation)
	byName := "true"
	if existing != nil {
		byName = fmt.Sprintf("!has(object.spec.ingressClassName) || object.spec.ingressClassName in %s", celList(istio))
		if settings.Mode == convert.ModeDefault {
			byName += fmt.Sprintf(" || !(object.spec.ingressClassName in %s)", celList(existing))
		}
	}
	return admissionregistrationv1.MatchCondition{
		Name: "ingress-class-is-" + conditionSuffix(settings.IngressClass),
		Expression: fmt.Sprintf(
			"has(object.metadata.annotations) && %s in object.metadata.annotations ? object.metadata.annotations[%s] == %s : %s",
			annotation, annotation, strconv.Quote(settings.IngressClass), byName),
	}
}

// DefaultingCondition is the second match condition of the mutating webhook
// (SPEC section 4): the API server sends it only an Ingress with an HTTP
// path that has no pathType. The Mutator sets nothing else, so it would
// answer any other Ingress unchanged; skipping the call saves every such
// create and update a round trip. The API server hands CEL the object as
// its JSON form, in which a missing pathType or paths (neither is
// omitempty) is null rather than absent; the guards keep the expression
// from failing, which under failurePolicy Fail would refuse the request,
// on an object the API server has not validated yet.
func DefaultingCondition() admissionregistrationv1.MatchCondition {
	return admissionregistrationv1.MatchCondition{
		Name: "a-path-has-no-path-type",
		Expression: "has(object.spec) && has(object.spec.rules) && object.spec.rules.exists(r, " +
			"has(r.http) && has(r.http.paths) && r.http.paths != null && " +
			"r.http.paths.exists(p, !has(p.pathType) || p.pathType == null))",
	}
}

// celList is a CEL list of string literals.
func celList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// conditionSuffix makes a class name fit a match condition name, a
// qualified name of at most 63 characters.
func conditionSuffix(class string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(class) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 30 {
		s = strings.Trim(s[:30], "-")
	}
	if s == "" {
		return "empty"
	}
	return s
}

// Configurations returns the webhook configurations that register the
// mutating and validating handlers for networking.k8s.io/v1 Ingresses.
// Both handlers:
//   - see CREATE and UPDATE only (deletes are always allowed, so the API
//     server need not ask);
//   - are skipped for Ingresses of another class annotation (MatchCondition
//     of no known classes: MatchConditions narrows it at run time) and for
//     Ingresses in o.Namespace; the mutating one also for Ingresses with
//     nothing to default (DefaultingCondition);
//   - have sideEffects None, so `kubectl apply --dry-run=server` calls them,
//     admissionReviewVersions v1 and a TimeoutSeconds timeout;
//   - use failurePolicy Fail: while ingressguard is down, our Ingresses
//     cannot be created or changed, rather than being admitted unchecked
//     (an Ingress whose pathType was not defaulted would be rejected by the
//     API server anyway, with a less helpful message).
//
// The install manifests mirror these objects; testdata/webhook-configurations.yaml
// shows them for the defaults.
func Configurations(o ConfigOptions) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration) {
	sideEffects := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	timeout := int32(TimeoutSeconds)
	equivalent := admissionregistrationv1.Equivalent
	never := admissionregistrationv1.NeverReinvocationPolicy
	scope := admissionregistrationv1.NamespacedScope
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups:   []string{networkingv1.GroupName},
			APIVersions: []string{"v1"},
			Resources:   []string{"ingresses"},
			Scope:       &scope,
		},
	}}
	namespaces := &metav1.LabelSelector{}
	if o.Namespace != "" {
		namespaces.MatchExpressions = []metav1.LabelSelectorRequirement{{
			Key:      corev1.LabelMetadataName,
			Operator: metav1.LabelSelectorOpNotIn,
			Values:   []string{o.Namespace},
		}}
	}
	conditions := []admissionregistrationv1.MatchCondition{MatchCondition(o.Settings, nil, nil)}
	defaulting := []admissionregistrationv1.MatchCondition{conditions[0], DefaultingCondition()}

	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    MutatingWebhookName,
			ClientConfig:            o.clientConfig(MutatePath),
			Rules:                   rules,
			FailurePolicy:           &fail,
			MatchPolicy:             &equivalent,
			NamespaceSelector:       namespaces,
			ObjectSelector:          &metav1.LabelSelector{},
			SideEffects:             &sideEffects,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			ReinvocationPolicy:      &never,
			MatchConditions:         defaulting,
		}},
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    ValidatingWebhookName,
			ClientConfig:            o.clientConfig(ValidatePath),
			Rules:                   rules,
			FailurePolicy:           &fail,
			MatchPolicy:             &equivalent,
			NamespaceSelector:       namespaces,
			ObjectSelector:          &metav1.LabelSelector{},
			SideEffects:             &sideEffects,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			MatchConditions:         conditions,
		}},
	}
	return mutating, validating
}

func (o ConfigOptions) clientConfig(path string) admissionregistrationv1.WebhookClientConfig {
	if o.URL != "" {
		url := strings.TrimSuffix(o.URL, "/") + path
		return admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: o.CABundle}
	}
	port := int32(443)
	return admissionregistrationv1.WebhookClientConfig{
		Service:  &admissionregistrationv1.ServiceReference{Namespace: o.Namespace, Name: o.ServiceName, Path: &path, Port: &port},
		CABundle: o.CABundle,
	}
}
