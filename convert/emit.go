package convert

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	gatewayType        = metav1.TypeMeta{APIVersion: istionet.SchemeGroupVersion.String(), Kind: "Gateway"}
	virtualServiceType = metav1.TypeMeta{APIVersion: istionet.SchemeGroupVersion.String(), Kind: "VirtualService"}
)

// Gateway is the emitter's Gateway of one Ingress (SPEC section 5): an HTTPS
// server per tls entry that names a Secret, then one HTTP server on port 80
// for the Ingress's hosts, or "*".
func (s Settings) Gateway(a *Analysis) *istionet.Gateway {
	ing := a.Ingress
	gw := &istionet.Gateway{
		TypeMeta: gatewayType,
		ObjectMeta: metav1.ObjectMeta{
			Name:      GatewayName(ing.Namespace, ing.Name),
			Namespace: s.GatewayNamespace,
			Labels: map[string]string{
				LabelManagedBy:        ManagedBy,
				LabelIngressNamespace: ing.Namespace,
				LabelIngressName:      labelValue(ing.Name),
			},
			Annotations: map[string]string{AnnotationIngress: ing.Namespace + "/" + ing.Name},
		},
	}
	gw.Spec.Selector = make(map[string]string, len(s.GatewaySelector))
	for k, v := range s.GatewaySelector {
		gw.Spec.Selector[k] = v
	}
	for i, t := range ing.Spec.TLS {
		if t.SecretName == "" {
			continue
		}
		hosts := t.Hosts
		if len(hosts) == 0 {
			hosts = []string{"*"}
		}
		gw.Spec.Servers = append(gw.Spec.Servers, &istioapi.Server{
			Port:  &istioapi.Port{Number: 443, Protocol: "HTTPS", Name: fmt.Sprintf("https-%d", i)},
			Hosts: append([]string(nil), hosts...),
			Tls:   &istioapi.ServerTLSSettings{Mode: istioapi.ServerTLSSettings_SIMPLE, CredentialName: t.SecretName},
		})
	}
	var hosts []string
	for _, h := range a.VirtualServiceHosts() {
		hosts = append(hosts, istioHost(h))
	}
	if len(hosts) == 0 {
		hosts = []string{"*"}
	}
	gw.Spec.Servers = append(gw.Spec.Servers, &istioapi.Server{
		Port:  &istioapi.Port{Number: 80, Protocol: "HTTP", Name: "http"},
		Hosts: hosts,
	})
	return gw
}

// VirtualService renders a host's table as its VirtualService (SPEC
// section 5): the routes in the table's order, then the fallback, bound to
// the Gateway of every Ingress in the table. It returns nil when nothing
// routes there.
func (s Settings) VirtualService(t *HostTable) *istionet.VirtualService {
	vs := &istionet.VirtualService{
		TypeMeta: virtualServiceType,
		ObjectMeta: metav1.ObjectMeta{
			Name:      VirtualServiceName(t.Host),
			Namespace: s.GatewayNamespace,
			Labels:    map[string]string{LabelManagedBy: ManagedBy, LabelHost: labelValue(istioHost(t.Host))},
		},
	}
	authority := wildcardAuthority(t.Host)
	seen := map[string]bool{}
	add := func(r *istioapi.HTTPRoute) {
		if r != nil {
			vs.Spec.Http = append(vs.Spec.Http, r)
		}
	}
	for _, r := range t.routes {
		add(httpRoute(r.Name(), r.Match, r.Dest, authority, seen))
	}
	if f := t.fallback; f != nil {
		add(httpRoute(fmt.Sprintf("%s/%s/defaultBackend", f.from.Ingress.Namespace, f.from.Ingress.Name),
			Match{Kind: Prefix, Path: "/"}, f.dest, nil, seen))
	}
	if len(vs.Spec.Http) == 0 {
		return nil
	}
	gateways := make([]string, 0, len(t.Ingresses))
	sources := make([]string, 0, len(t.Ingresses))
	for _, a := range t.Ingresses {
		gateways = append(gateways, GatewayName(a.Ingress.Namespace, a.Ingress.Name))
		sources = append(sources, a.Key().String())
	}
	sort.Strings(gateways)
	sort.Strings(sources)
	vs.Spec.Hosts = []string{istioHost(t.Host)}
	vs.Spec.Gateways = gateways
	vs.Annotations = map[string]string{AnnotationHost: istioHost(t.Host), AnnotationIngresses: strings.Join(sources, ",")}
	return vs
}

// wildcardAuthority restricts a wildcard host to exactly one DNS label, as
// the Kubernetes specification says; Envoy's own wildcard matches any depth.
func wildcardAuthority(host string) *istioapi.StringMatch {
	suffix, ok := strings.CutPrefix(host, "*")
	if !ok {
		return nil
	}
	return &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Regex{
		Regex: "^[^.]+" + regexp.QuoteMeta(suffix) + "(:[0-9]+)?$",
	}}
}

// httpRoute renders one route. A Prefix other than "/" becomes two matches,
// exact "/a" and prefix "/a/", which is Kubernetes' element-wise prefix.
// Matches already in seen belong to an earlier route and are left out, so
// that no rule is unreachable (istioctl analyze flags those); a route with
// nothing left is nil.
func httpRoute(name string, m Match, d destination, authority *istioapi.StringMatch, seen map[string]bool) *istioapi.HTTPRoute {
	var uris []*istioapi.StringMatch
	switch {
	case m.Kind == Exact:
		uris = append(uris, &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: m.Path}})
	case m.Path == "/":
		uris = append(uris, &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Prefix{Prefix: "/"}})
	default:
		uris = append(uris,
			&istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: m.Path}},
			&istioapi.StringMatch{MatchType: &istioapi.StringMatch_Prefix{Prefix: m.Path + "/"}})
	}
	r := &istioapi.HTTPRoute{
		Name: name,
		Route: []*istioapi.HTTPRouteDestination{{
			Destination: &istioapi.Destination{Host: d.Host, Port: &istioapi.PortSelector{Number: d.Port}},
		}},
	}
	auth := ""
	if authority != nil {
		auth = authority.GetRegex()
	}
	for _, u := range uris {
		key := fmt.Sprintf("%s|%s|%s", u.GetExact(), u.GetPrefix(), auth)
		if seen[key] {
			continue
		}
		seen[key] = true
		r.Match = append(r.Match, &istioapi.HTTPMatchRequest{Uri: u, Authority: authority})
	}
	if len(r.Match) == 0 {
		return nil
	}
	return r
}
