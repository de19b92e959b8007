package convert

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var (
	gatewayType        = metav1.TypeMeta{APIVersion: istionet.SchemeGroupVersion.String(), Kind: "Gateway"}
	virtualServiceType = metav1.TypeMeta{APIVersion: istionet.SchemeGroupVersion.String(), Kind: "VirtualService"}
)

// Gateway builds the Gateway of one Ingress (SPEC section 5): an HTTPS
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

// VirtualService builds the VirtualService of one host ("" is "*") from the
// analyses of every Ingress of ours that has a rule for it or, for "", a
// defaultBackend (SPEC section 5). It returns nil when nothing routes there.
// Routes that repeat an older route's match with another destination are
// reported as warnings on the Ingresses accepted by warnTo (nil: none).
func (s Settings) VirtualService(host string, as []*Analysis, warnTo func(*Analysis) bool) *istionet.VirtualService {
	as = append([]*Analysis(nil), as...)
	sort.Slice(as, func(i, j int) bool { return older(as[i].Ingress, as[j].Ingress) })
	rs := hostRoutes(host, as)
	if warnTo != nil {
		conflicts(host, rs, warnTo)
	}
	vs := &istionet.VirtualService{
		TypeMeta: virtualServiceType,
		ObjectMeta: metav1.ObjectMeta{
			Name:      VirtualServiceName(host),
			Namespace: s.GatewayNamespace,
			Labels:    map[string]string{LabelManagedBy: ManagedBy, LabelHost: labelValue(istioHost(host))},
		},
	}
	authority := wildcardAuthority(host)
	seen := map[string]bool{}
	add := func(r *istioapi.HTTPRoute) {
		if r != nil {
			vs.Spec.Http = append(vs.Spec.Http, r)
		}
	}
	for _, r := range rs {
		add(httpRoute(r.Name(), r.Match, r.Dest, authority, seen))
	}
	// The defaultBackend of the oldest contributor that has one catches what
	// no rule matched, in every host of that Ingress.
	for _, a := range as {
		if a.fallback != nil && a.contributes(host) {
			add(httpRoute(fmt.Sprintf("%s/%s/defaultBackend", a.Ingress.Namespace, a.Ingress.Name),
				Match{Kind: Prefix, Path: "/"}, *a.fallback, nil, seen))
			break
		}
	}
	if len(vs.Spec.Http) == 0 {
		return nil
	}
	var gateways, sources []string
	for _, a := range as {
		if a.contributes(host) {
			gateways = append(gateways, GatewayName(a.Ingress.Namespace, a.Ingress.Name))
			sources = append(sources, a.Key().String())
		}
	}
	sort.Strings(gateways)
	sort.Strings(sources)
	vs.Spec.Hosts = []string{istioHost(host)}
	vs.Spec.Gateways = gateways
	vs.Annotations = map[string]string{AnnotationHost: istioHost(host), AnnotationIngresses: strings.Join(sources, ",")}
	return vs
}

// contributes reports whether the Ingress has a part in host's VirtualService.
func (a *Analysis) contributes(host string) bool {
	for _, h := range a.VirtualServiceHosts() {
		if h == host {
			return true
		}
	}
	return false
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

// Report is the diagnostics of one of our Ingresses.
type Report struct {
	Ingress types.NamespacedName
	Diagnostics
}

// Result is what a snapshot converts to.
type Result struct {
	Gateways        []*istionet.Gateway
	VirtualServices []*istionet.VirtualService
	// Reports has one entry per Ingress of ours, sorted by namespace/name.
	Reports []Report
	// Ignored lists the Ingresses that are not ours, sorted.
	Ignored []types.NamespacedName
}

// HasErrors reports whether any of our Ingresses has an error.
func (r *Result) HasErrors() bool {
	for _, rep := range r.Reports {
		if len(rep.Errors) > 0 {
			return true
		}
	}
	return false
}

// Convert turns a snapshot into the Istio objects that serve its Ingresses
// and the diagnostics of each. The result does not depend on the order of
// the snapshot's lists.
func (s Settings) Convert(snap Snapshot) *Result {
	ix := NewIndex(snap)
	res := &Result{}
	var ours []*Analysis
	byHost := map[string][]*Analysis{}
	for _, ing := range snap.Ingresses {
		if !s.Ours(ing, ix) {
			res.Ignored = append(res.Ignored, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
			continue
		}
		a := s.Analyze(ing, ix)
		ours = append(ours, a)
		for _, h := range a.VirtualServiceHosts() {
			byHost[h] = append(byHost[h], a)
		}
	}
	sort.Slice(ours, func(i, j int) bool { return ours[i].Key().String() < ours[j].Key().String() })
	sort.Slice(res.Ignored, func(i, j int) bool { return res.Ignored[i].String() < res.Ignored[j].String() })
	for _, a := range ours {
		res.Gateways = append(res.Gateways, s.Gateway(a))
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	all := func(*Analysis) bool { return true }
	for _, h := range hosts {
		if vs := s.VirtualService(h, byHost[h], all); vs != nil {
			res.VirtualServices = append(res.VirtualServices, vs)
		}
	}
	for _, a := range ours {
		res.Reports = append(res.Reports, Report{Ingress: a.Key(), Diagnostics: a.Diagnostics})
	}
	return res
}
