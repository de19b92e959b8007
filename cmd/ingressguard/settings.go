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
	fs.StringSliceVar(&s.AcceptAnnotations, "accept-annotations", s.AcceptAnnotations,
		"refused ingress-nginx annotations (`names` without the nginx.ingress.kubernetes.io/ prefix, or \"*\") to accept on every Ingress: each becomes a warning that says what is lost")
}

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
