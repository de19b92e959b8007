package convert

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NginxPrefix is the prefix of ingress-nginx's annotations.
const NginxPrefix = "nginx.ingress.kubernetes.io/"

// Answer is what ingressguard does with one annotation of another ingress
// controller on an Ingress of ours.
type Answer string

const (
	// Translated: the annotation is carried into the generated Istio
	// objects (README, "Annotations of other controllers").
	Translated Answer = "translated"
	// Refused: serving the Ingress without it would be wrong or unsafe, so
	// admission refuses it unless an admin accepts it knowingly.
	Refused Answer = "refused"
	// Ignored: Istio ignores it; admission warns, with the equivalent
	// where there is one.
	Ignored Answer = "ignored"
)

// nginxValue returns the value of ingress-nginx annotation name (without
// NginxPrefix) on ing.
func nginxValue(ing *networkingv1.Ingress, name string) (string, bool) {
	if len(ing.Annotations) == 0 {
		return "", false
	}
	v, ok := ing.Annotations[NginxPrefix+name]
	return v, ok
}

// annotationField is the field path of annotation key, for messages.
func annotationField(key string) *field.Path {
	return field.NewPath("metadata", "annotations").Key(key)
}

// hasNginx reports whether ing has any ingress-nginx annotation: the one
// test an Ingress without them pays.
func hasNginx(ing *networkingv1.Ingress) bool {
	for k := range ing.Annotations {
		if strings.HasPrefix(k, NginxPrefix) {
			return true
		}
	}
	return false
}

// AnnotationAnswer says what ingressguard does with annotation key (the
// whole key, prefix included) on an Ingress of ours; false when key is
// not another ingress controller's annotation.
func AnnotationAnswer(key string) (Answer, bool) {
	if strings.HasPrefix(key, NginxPrefix) {
		return Ignored, true
	}
	return "", false
}
