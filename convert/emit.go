package convert

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	istioapi "istio.io/api/networking/v1alpha3"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	gatewayType        = metav1.TypeMeta{APIVersion: istionet.SchemeGroupVersion.String(), Kind: "Gateway"}
	virtualServiceType = metav1.TypeMeta{APIVersion: istionet.SchemeGroupVersion.String(), Kind: "VirtualService"}
)

// Gateway is the emitter's Gateway of one virtual host (SPEC section 5):
// an HTTPS server for its host with its certificate, when it has one, and
// an HTTP server for its host. It returns nil when nothing routes there.
func (s Settings) Gateway(v *VirtualHost) *istionet.Gateway {
	if v.empty() {
		return nil
	}
	host := istioHost(v.Host)
	gw := &istionet.Gateway{TypeMeta: gatewayType, ObjectMeta: s.objectMeta(v)}
	gw.Spec.Selector = make(map[string]string, len(s.GatewaySelector))
	for k, val := range s.GatewaySelector {
		gw.Spec.Selector[k] = val
	}
	if s.passthrough(v) != nil {
		gw.Spec.Servers = append(gw.Spec.Servers, &istioapi.Server{
			Port:  &istioapi.Port{Number: 443, Protocol: "TLS", Name: "tls"},
			Hosts: []string{host},
			Tls:   &istioapi.ServerTLSSettings{Mode: istioapi.ServerTLSSettings_PASSTHROUGH},
		})
	} else if c := v.Certificate; c != nil {
		gw.Spec.Servers = append(gw.Spec.Servers, &istioapi.Server{
			Port:  &istioapi.Port{Number: 443, Protocol: "HTTPS", Name: "https"},
			Hosts: []string{host},
			Tls:   &istioapi.ServerTLSSettings{Mode: istioapi.ServerTLSSettings_SIMPLE, CredentialName: c.SecretName},
		})
	}
	gw.Spec.Servers = append(gw.Spec.Servers, &istioapi.Server{
		Port:  &istioapi.Port{Number: 80, Protocol: "HTTP", Name: "http"},
		Hosts: []string{host},
	})
	return gw
}

// objectMeta is the metadata of v's Gateway and VirtualService: the same
// name, the host, and the Ingresses they are made from.
func (s Settings) objectMeta(v *VirtualHost) metav1.ObjectMeta {
	var sources []string
	for _, ing := range v.Ingresses() {
		sources = append(sources, ing.Namespace+"/"+ing.Name)
	}
	sort.Strings(sources)
	return s.metaFor(ObjectName(v.Host), istioHost(v.Host), sources)
}

// VirtualService renders a virtual host as its VirtualService (SPEC
// section 5), bound to its own Gateway only: each table's routes in order,
// then its fallback; a table guarded by an authority that has no fallback
// ends in a 404 for that authority when unguarded routes follow, so that
// they never answer for it. It returns nil when nothing routes there.
func (s Settings) VirtualService(v *VirtualHost) *istionet.VirtualService {
	if v.empty() {
		return nil
	}
	vs := &istionet.VirtualService{TypeMeta: virtualServiceType, ObjectMeta: s.objectMeta(v)}
	vs.Spec.Hosts = []string{istioHost(v.Host)}
	vs.Spec.Gateways = []string{vs.Name}
	seen := map[string]bool{}
	add := func(r *istioapi.HTTPRoute) {
		if r != nil {
			vs.Spec.Http = append(vs.Spec.Http, r)
		}
	}
	for i, p := range v.parts {
		var authority *istioapi.StringMatch
		if p.authority != "" {
			authority = &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Regex{Regex: p.authority}}
		}
		for i, r := range p.routes {
			base := httpRoute(r.Name(), r.Match, r.Dest, authority, seen)
			c, canary := p.canary.of(i)
			if base == nil || r.from.nginx == nil && !canary {
				add(base)
				continue
			}
			var cp *route
			if canary {
				cp = &c
			}
			// app-root's redirect of "/" is reachable when no earlier
			// route has exact "/"; it then has it.
			root := "/||" + authority.GetRegex()
			for _, hr := range nginxHTTPRoutes(base, r, cp, v.Certificate != nil, !seen[root]) {
				if strings.HasSuffix(hr.Name, "/app-root") {
					seen[root] = true
				}
				add(hr)
			}
		}
		switch f := p.fallback; {
		case f != nil:
			name := fmt.Sprintf("%s/%s/defaultBackend", f.from.Ingress.Namespace, f.from.Ingress.Name)
			if authority != nil {
				name += "/" + p.Host
			}
			add(httpRoute(name, Match{Kind: Prefix, Path: "/"}, f.dest, authority, seen))
		case authority != nil && !p.catchesAll() && routesIn(v.parts[i+1:]):
			add(&istioapi.HTTPRoute{
				Name:           "no-rule/" + p.Host,
				Match:          []*istioapi.HTTPMatchRequest{{Uri: &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Prefix{Prefix: "/"}}, Authority: authority}},
				DirectResponse: &istioapi.HTTPDirectResponse{Status: 404},
			})
		}
	}
	if d := s.passthrough(v); d != nil {
		vs.Spec.Tls = []*istioapi.TLSRoute{{
			Match: []*istioapi.TLSMatchAttributes{{Port: 443, SniHosts: []string{v.Host}}},
			Route: []*istioapi.RouteDestination{{Destination: &istioapi.Destination{Host: d.Host, Port: &istioapi.PortSelector{Number: d.Port}}}},
		}}
	}
	return vs
}

// wildcardAuthority is the authority regex that restricts a wildcard host
// to exactly one DNS label, as the Kubernetes specification says; Envoy's
// own wildcard matches any depth.
func wildcardAuthority(host string) string {
	return "^[^.]+" + regexp.QuoteMeta(strings.TrimPrefix(host, "*")) + "(:[0-9]+)?$"
}

// exactAuthority is the authority regex of exactly host, with any port.
func exactAuthority(host string) string {
	return "^" + regexp.QuoteMeta(host) + "(:[0-9]+)?$"
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

// nginxHTTPRoutes renders the ingress-nginx annotations of route r onto
// base, its HTTPRoute, and the routes that go before it: app-root's
// redirect of "/", the redirect of plain HTTP to HTTPS (ssl-redirect when
// the host has a certificate, force-ssl-redirect always), and the routes
// by which canary c, when not nil, takes requests by header or cookie.
// app-root applies when root, a request for "/", is still unrouted.
// README, "What the translations do", says what each means.
func nginxHTTPRoutes(base *istioapi.HTTPRoute, r route, c *route, tls, root bool) []*istioapi.HTTPRoute {
	n := r.from.nginx
	if n == nil {
		n = &nginxRoutes{}
	}
	var out []*istioapi.HTTPRoute
	if n.appRoot != "" && r.Match.Path == "/" && root {
		red := &istioapi.HTTPRedirect{Uri: n.appRoot, RedirectCode: 302}
		if r.Match.Kind == Exact {
			base.Route, base.Redirect = nil, red
			return []*istioapi.HTTPRoute{base}
		}
		root := variant(base, "app-root", func(m *istioapi.HTTPMatchRequest) {
			m.Uri = &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: "/"}}
		})
		root.Match = root.Match[:1]
		root.Route, root.Redirect = nil, red
		out = append(out, root)
	}
	if n.redirect != nil {
		base.Route, base.Redirect = nil, proto.Clone(n.redirect).(*istioapi.HTTPRedirect)
		return append(out, base)
	}
	if n.forceSSL || n.sslRedirect && tls {
		https := variant(base, "ssl-redirect", func(m *istioapi.HTTPMatchRequest) { m.Port = 80 })
		https.Route, https.Redirect = nil, &istioapi.HTTPRedirect{Scheme: "https", RedirectCode: 308}
		out = append(out, https)
	}
	if n.rewrite != "" && n.rewrite != r.Match.Path && n.rewrite != r.Match.Path+"/" {
		base.Rewrite = &istioapi.HTTPRewrite{UriRegexRewrite: &istioapi.RegexRewrite{Match: "^.*$", Rewrite: n.rewrite}}
		if n.prefixHeader != "" {
			base.Headers = &istioapi.Headers{Request: &istioapi.Headers_HeaderOperations{Set: map[string]string{"X-Forwarded-Prefix": n.prefixHeader}}}
		}
	}
	if n.authority != "" {
		if base.Rewrite == nil {
			base.Rewrite = &istioapi.HTTPRewrite{}
		}
		base.Rewrite.Authority = n.authority
	}
	base.Timeout = n.timeout
	if n.cors != nil {
		base.CorsPolicy = proto.Clone(n.cors).(*istioapi.CorsPolicy)
	}
	if c != nil {
		out = append(out, canaryRoutes(base, c)...)
	}
	return append(out, base)
}

// canaryRoutes are the routes by which canary route c takes requests from
// base, its primary's HTTPRoute, in nginx's order: header, then cookie,
// then weight, which is set on base. Each is base with its match
// narrowed and, for "always" or a header value, c's destination: a
// canary inherits its primary's annotations, as in nginx.
func canaryRoutes(base *istioapi.HTTPRoute, c *route) []*istioapi.HTTPRoute {
	k := c.from.nginx.canary
	to := func(r *istioapi.HTTPRoute, d destination) *istioapi.HTTPRoute {
		r.Route = []*istioapi.HTTPRouteDestination{{Destination: &istioapi.Destination{Host: d.Host, Port: &istioapi.PortSelector{Number: d.Port}}}}
		return r
	}
	primary := base.Route[0].Destination
	by := func(name, header string, m *istioapi.StringMatch) *istioapi.HTTPRoute {
		return variant(base, name, func(mr *istioapi.HTTPMatchRequest) {
			if mr.Headers == nil {
				mr.Headers = map[string]*istioapi.StringMatch{}
			}
			mr.Headers[header] = proto.Clone(m).(*istioapi.StringMatch)
		})
	}
	exact := func(v string) *istioapi.StringMatch {
		return &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: v}}
	}
	var out []*istioapi.HTTPRoute
	switch {
	case k.header != "" && k.headerValue != "":
		out = append(out, to(by("canary-by-header", k.header, exact(k.headerValue)), c.Dest))
	case k.header != "":
		out = append(out, to(by("canary-by-header", k.header, exact("always")), c.Dest))
		if k.cookie != "" || k.weight > 0 {
			out = append(out, by("canary-by-header-never", k.header, exact("never")))
		}
	}
	if k.cookie != "" {
		out = append(out, to(by("canary-by-cookie", "cookie", cookieMatch(k.cookie, "always")), c.Dest))
		if k.weight > 0 {
			out = append(out, by("canary-by-cookie-never", "cookie", cookieMatch(k.cookie, "never")))
		}
	}
	switch {
	case k.weight >= k.total:
		to(base, c.Dest)
	case k.weight > 0:
		base.Route = []*istioapi.HTTPRouteDestination{
			{Destination: proto.Clone(primary).(*istioapi.Destination), Weight: k.total - k.weight},
			{Destination: &istioapi.Destination{Host: c.Dest.Host, Port: &istioapi.PortSelector{Number: c.Dest.Port}}, Weight: k.weight},
		}
	}
	return out
}

// variant is a copy of base named base's name and suffix, each of whose
// matches edit narrows.
func variant(base *istioapi.HTTPRoute, suffix string, edit func(*istioapi.HTTPMatchRequest)) *istioapi.HTTPRoute {
	r := proto.Clone(base).(*istioapi.HTTPRoute)
	r.Name = base.Name + "/" + suffix
	for _, m := range r.Match {
		edit(m)
	}
	return r
}
