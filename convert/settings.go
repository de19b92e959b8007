package convert

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Mode mirrors Istio's mesh config ingressControllerMode for the Ingresses
// that name no class (SPEC section 1).
type Mode string

const (
	// ModeStrict serves only Ingresses that select Istio explicitly.
	ModeStrict Mode = "STRICT"
	// ModeDefault also serves Ingresses that name no class at all.
	ModeDefault Mode = "DEFAULT"
)

// ControllerName is the IngressClass spec.controller value that selects Istio.
const ControllerName = "istio.io/ingress-controller"

// Settings are the cluster-level choices of SPEC section 1; they mirror
// Istio's mesh config.
type Settings struct {
	// IngressClass is the value of the kubernetes.io/ingress.class annotation
	// that selects Istio.
	IngressClass string
	// Mode decides Ingresses without any class.
	Mode Mode
	// GatewayNamespace is where the ingress gateway runs, where TLS Secrets
	// are read from and where generated objects are written.
	GatewayNamespace string
	// GatewaySelector selects the ingress gateway pods in generated Gateways.
	GatewaySelector map[string]string
	// DomainSuffix is the cluster's DNS suffix used in destination hosts.
	DomainSuffix string
	// IngressService is the gateway Service whose addresses go into Ingress status.
	IngressService string
	// HostOwnership gives each host to the namespace whose Ingress claimed
	// it first (README "Many teams, one gateway"); off, any namespace may
	// add routes and certificates to any host.
	HostOwnership bool
	// CertificateUse says whether TLS Secrets must declare the namespaces
	// that may serve them.
	CertificateUse CertificateUse
	// AcceptAnnotations are the refused ingress-nginx annotations (names
	// without NginxPrefix, or "*" for all) that the cluster's admin accepts
	// on every Ingress: each becomes a warning that says what is lost.
	AcceptAnnotations []string
	// AsClasses are classes of other controllers whose Ingresses are
	// treated as if Istio already served them (AsClass), so that a team
	// sees before switching what would be translated, refused and ignored.
	// Empty, as in the webhook and the reconciler, it changes nothing; only
	// the CLI's migration report (check --as-class) sets it.
	AsClasses []string
}

// DefaultSettings returns the defaults of SPEC section 1.
func DefaultSettings() Settings {
	return Settings{
		IngressClass:     "istio",
		Mode:             ModeStrict,
		GatewayNamespace: "istio-system",
		GatewaySelector:  map[string]string{"istio": "ingressgateway"},
		DomainSuffix:     "cluster.local",
		IngressService:   "istio-ingressgateway",
		HostOwnership:    true,
		CertificateUse:   CertificateUsePermissive,
	}
}

// ParseSelector parses a selector flag value such as "istio=ingressgateway,app=gw".
func ParseSelector(s string) (map[string]string, error) {
	set, err := labels.ConvertSelectorToLabelsMap(s)
	if err != nil {
		return nil, fmt.Errorf("gateway selector %q: %w", s, err)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("gateway selector %q: must name at least one label, such as istio=ingressgateway", s)
	}
	return set, nil
}

// Check reports settings that cannot work.
func (s Settings) Check() error {
	var problems []string
	if s.Mode != ModeStrict && s.Mode != ModeDefault {
		problems = append(problems, fmt.Sprintf("ingress controller mode %q: must be STRICT or DEFAULT", s.Mode))
	}
	if s.CertificateUse != CertificateUsePermissive && s.CertificateUse != CertificateUseStrict {
		problems = append(problems, fmt.Sprintf("certificate use %q: must be permissive or strict", s.CertificateUse))
	}
	if errs := validation.IsDNS1123Label(s.GatewayNamespace); len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("gateway namespace %q: %s", s.GatewayNamespace, strings.Join(errs, "; ")))
	}
	if len(s.GatewaySelector) == 0 {
		problems = append(problems, "gateway selector: must name at least one label, such as istio=ingressgateway")
	}
	if errs := validation.IsDNS1123Subdomain(s.DomainSuffix); len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("domain suffix %q: %s", s.DomainSuffix, strings.Join(errs, "; ")))
	}
	if bad := checkAcceptAnnotations(s.AcceptAnnotations); len(bad) > 0 {
		problems = append(problems, fmt.Sprintf("accept annotations %s: not refused annotations of ingress-nginx; name refused ones such as auth-url, or \"*\"", strings.Join(bad, ", ")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid settings: %s", strings.Join(problems, ", "))
	}
	return nil
}
