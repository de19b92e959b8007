package convert

import networkingv1 "k8s.io/api/networking/v1"

// ClassAnnotation is the deprecated annotation that selects an ingress controller.
const ClassAnnotation = "kubernetes.io/ingress.class"

// Owns decides whether ing is served by Istio (SPEC section 1):
//  1. the kubernetes.io/ingress.class annotation, when present (even empty),
//     must equal the ingress class setting;
//  2. else spec.ingressClassName, when it names an existing IngressClass,
//     must name one whose controller is istio.io/ingress-controller;
//  3. else, with no class at all, the cluster's default IngressClass decides,
//     as the Kubernetes specification says (a default class of another
//     controller claims the Ingress even in DEFAULT mode);
//  4. else (no class and no default, or a class that does not exist) the
//     Ingress is ours only in DEFAULT mode.
func (s Settings) Owns(ing *networkingv1.Ingress, classes Classes) bool {
	if v, ok := ing.Annotations[ClassAnnotation]; ok {
		return v == s.IngressClass
	}
	if name := ing.Spec.IngressClassName; name != nil {
		if c, ok := classes.IngressClass(*name); ok {
			return c.Spec.Controller == ControllerName
		}
	} else if c, ok := classes.DefaultIngressClass(); ok {
		return c.Spec.Controller == ControllerName
	}
	return s.Mode == ModeDefault
}
