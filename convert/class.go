package convert

import (
	"fmt"
	"slices"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
)

// ClassAnnotation is the deprecated annotation that selects an ingress controller.
const ClassAnnotation = "kubernetes.io/ingress.class"

// Ours decides whether ing is served by Istio (SPEC section 1). It is
// WhyOurs without the explanation, which it does not format.
func (s Settings) Ours(ing *networkingv1.Ingress, classes Classes) bool {
	ours, _ := s.whyOurs(ing, classes, false)
	return ours
}

// WhyOurs decides whether ing is served by Istio (SPEC section 1) and
// says why:
//  1. the kubernetes.io/ingress.class annotation, when present (even empty),
//     must equal the ingress class setting;
//  2. else spec.ingressClassName, when it names an existing IngressClass,
//     must name one whose controller is istio.io/ingress-controller;
//  3. else, with no class at all, the cluster's default IngressClass decides,
//     as the Kubernetes specification says (a default class of another
//     controller claims the Ingress even in DEFAULT mode);
//  4. else (no class and no default, or a class that does not exist) the
//     Ingress is ours only in DEFAULT mode;
//  5. an Ingress that these rules leave to another controller is ours
//     still when its class is one of AsClasses (AsClass).
func (s Settings) WhyOurs(ing *networkingv1.Ingress, classes Classes) (bool, string) {
	return s.whyOurs(ing, classes, true)
}

// whyOurs is WhyOurs; the reason is formatted only with explain.
func (s Settings) whyOurs(ing *networkingv1.Ingress, classes Classes, explain bool) (bool, string) {
	ours, why := s.whyIstio(ing, classes, explain)
	if ours || len(s.AsClasses) == 0 {
		return ours, why
	}
	if name, ok := s.AsClass(ing, classes); ok {
		if explain {
			why = fmt.Sprintf("%s, but class %s is treated as Istio's", why, name)
		}
		return true, why
	}
	return false, why
}

// AsClass reports whether ing is of one of the classes of s.AsClasses,
// and returns the name of its class (ClassOf). An entry of AsClasses
// matches a class by its name, such as nginx, or by the controller of the
// IngressClass of that name, such as k8s.io/ingress-nginx for every class
// of ingress-nginx.
func (s Settings) AsClass(ing *networkingv1.Ingress, classes Classes) (string, bool) {
	if len(s.AsClasses) == 0 {
		return "", false
	}
	name, ok := ClassOf(ing, classes)
	if !ok {
		return "", false
	}
	if slices.Contains(s.AsClasses, name) {
		return name, true
	}
	if c, ok := classes.IngressClass(name); ok && slices.Contains(s.AsClasses, c.Spec.Controller) {
		return name, true
	}
	return "", false
}

// ClassOf returns the name of the class of ing, in the order of WhyOurs:
// the kubernetes.io/ingress.class annotation when present, else
// spec.ingressClassName, else the cluster's default IngressClass; false
// when there is none of them.
func ClassOf(ing *networkingv1.Ingress, classes Classes) (string, bool) {
	if v, ok := ing.Annotations[ClassAnnotation]; ok {
		return v, true
	}
	if name := ing.Spec.IngressClassName; name != nil {
		return *name, true
	}
	if c, ok := classes.DefaultIngressClass(); ok {
		return c.Name, true
	}
	return "", false
}

// whyIstio is whyOurs by rules 1 to 4 of WhyOurs, without AsClasses.
func (s Settings) whyIstio(ing *networkingv1.Ingress, classes Classes, explain bool) (ours bool, why string) {
	if v, ok := ing.Annotations[ClassAnnotation]; ok {
		if explain {
			why = fmt.Sprintf("annotation %s is %q; the ingress class setting is %q", ClassAnnotation, v, s.IngressClass)
		}
		return v == s.IngressClass, why
	}
	if name := ing.Spec.IngressClassName; name != nil {
		if c, ok := classes.IngressClass(*name); ok {
			if explain {
				why = fmt.Sprintf("IngressClass %s has controller %q", c.Name, c.Spec.Controller)
			}
			return c.Spec.Controller == ControllerName, why
		}
		if explain {
			why = fmt.Sprintf("IngressClass %s does not exist and the ingress controller mode is %s", *name, s.Mode)
		}
		return s.Mode == ModeDefault, why
	}
	if c, ok := classes.DefaultIngressClass(); ok {
		if explain {
			why = fmt.Sprintf("no class, and the default IngressClass %s has controller %q", c.Name, c.Spec.Controller)
		}
		return c.Spec.Controller == ControllerName, why
	}
	if explain {
		why = fmt.Sprintf("no class, no default IngressClass, and the ingress controller mode is %s", s.Mode)
	}
	return s.Mode == ModeDefault, why
}

// DefaultClassAnnotation marks the cluster's default IngressClass.
const DefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"

// IsDefaultClass reports whether c is marked as the cluster default.
func IsDefaultClass(c *networkingv1.IngressClass) bool {
	return c.Annotations[DefaultClassAnnotation] == "true"
}

// NewestClass picks the default class the way Kubernetes does when several
// are marked: the most recently created, then the name, for determinism.
func NewestClass(classes []*networkingv1.IngressClass) *networkingv1.IngressClass {
	if len(classes) == 0 {
		return nil
	}
	sorted := append([]*networkingv1.IngressClass(nil), classes...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return b.CreationTimestamp.Before(&a.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return sorted[0]
}
