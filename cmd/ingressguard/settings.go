package main

import (
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ingressguard/ingressguard/convert"
)

// bindSettings adds the settings flags of SPEC section 1 to fs. The flags
// default to the values in s and write what they parse into s; call
// s.Check after parsing.
func bindSettings(fs *pflag.FlagSet, s *convert.Settings) {
	fs.StringVar(&s.IngressClass, "ingress-class", s.IngressClass,
		"value of the kubernetes.io/ingress.class annotation that selects Istio (meshConfig.ingressClass)")
	fs.Var(modeValue{&s.Mode}, "ingress-controller-mode",
		"`STRICT|DEFAULT`: in DEFAULT mode, Ingresses without any class are ours too (meshConfig.ingressControllerMode)")
	fs.StringVar(&s.GatewayNamespace, "gateway-namespace", s.GatewayNamespace,
		"namespace of the ingress gateway: TLS Secrets are read there and generated objects are written there")
	fs.Var(selectorValue{&s.GatewaySelector}, "gateway-selector",
		"labels (`k=v,...`) of the ingress gateway pods, used as the selector of generated Gateways (meshConfig.ingressSelector)")
	fs.StringVar(&s.DomainSuffix, "domain-suffix", s.DomainSuffix,
		"cluster DNS suffix used in destination hosts such as httpbin.default.svc.cluster.local")
	fs.StringVar(&s.IngressService, "ingress-service", s.IngressService,
		"Service of the ingress gateway, in the gateway namespace, whose addresses go into Ingress status (meshConfig.ingressService)")
	fs.BoolVar(&s.HostOwnership, "host-ownership", s.HostOwnership,
		"give each host to the namespace whose Ingress claimed it first; other namespaces may serve it only if the owner shares it ("+convert.AnnotationShareHostWith+"); false lets any namespace add routes and certificates to any host")
	fs.Var(certificateUseValue{&s.CertificateUse}, "certificate-use",
		"`permissive|strict`: in strict mode, a TLS Secret is served only for the namespaces that it or its cert-manager Certificate lists in "+convert.AnnotationAllowedNamespaces+"; in permissive mode, a Secret without that annotation serves any namespace, with a warning")
	fs.StringSliceVar(&s.AcceptAnnotations, "accept-annotations", s.AcceptAnnotations,
		"refused ingress-nginx annotations (`names` without the nginx.ingress.kubernetes.io/ prefix, or \"*\") to accept on every Ingress: each becomes a warning that says what is lost")
}

// certificateUseValue is the --certificate-use flag.
type certificateUseValue struct{ u *convert.CertificateUse }

func (v certificateUseValue) String() string { return string(*v.u) }

// Set stores the value in lower case; convert.Settings.Check refuses
// values other than permissive and strict.
func (v certificateUseValue) Set(s string) error {
	*v.u = convert.CertificateUse(strings.ToLower(s))
	return nil
}

func (v certificateUseValue) Type() string { return "mode" }

// modeValue is the --ingress-controller-mode flag.
type modeValue struct{ m *convert.Mode }

func (v modeValue) String() string { return string(*v.m) }

// Set stores the mode in upper case; convert.Settings.Check refuses modes
// other than STRICT and DEFAULT.
func (v modeValue) Set(s string) error {
	*v.m = convert.Mode(strings.ToUpper(s))
	return nil
}

func (v modeValue) Type() string { return "mode" }

// selectorValue is the --gateway-selector flag.
type selectorValue struct{ m *map[string]string }

func (v selectorValue) String() string {
	pairs := make([]string, 0, len(*v.m))
	for k, val := range *v.m {
		pairs = append(pairs, k+"="+val)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (v selectorValue) Set(s string) error {
	m, err := convert.ParseSelector(s)
	if err != nil {
		return err
	}
	*v.m = m
	return nil
}

func (v selectorValue) Type() string { return "labels" }
