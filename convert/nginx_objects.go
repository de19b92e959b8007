package convert

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The ingress-nginx annotations (without NginxPrefix) whose Istio
// equivalent is an object of another kind than the Gateway and the
// VirtualService: a DestinationRule per backend Service, an
// AuthorizationPolicy per host, or a PASSTHROUGH server.
const (
	nginxBackendProtocol  = "backend-protocol"
	nginxAffinity         = "affinity"
	nginxCookieName       = "session-cookie-name"
	nginxCookiePath       = "session-cookie-path"
	nginxCookieMaxAge     = "session-cookie-max-age"
	nginxCookieExpires    = "session-cookie-expires"
	nginxLoadBalance      = "load-balance"
	nginxConnectTimeout   = "proxy-connect-timeout"
	nginxAllowSourceRange = "allowlist-source-range"
	nginxAllowSourceOld   = "whitelist-source-range" // the old name, still read
	nginxDenySourceRange  = "denylist-source-range"
	nginxSSLPassthrough   = "ssl-passthrough"
)

// nginxCookieDefault is the cookie ingress-nginx names when
// session-cookie-name is not set.
const nginxCookieDefault = "INGRESSCOOKIE"

// destinationPolicy is what an Ingress's annotations ask of the
// connections the gateway opens to its backends: one port's traffic
// policy in the DestinationRule of a backend Service. It is comparable, so
// that two Ingresses asking different things of one destination are told
// apart by !=.
type destinationPolicy struct {
	// tls originates TLS (backend-protocol HTTPS or GRPCS).
	tls bool
	// lb is the simple load balancer ("ROUND_ROBIN", "LEAST_REQUEST"),
	// "" for Istio's default; unused with a cookie.
	lb string
	// cookie is the session-affinity cookie's name, "" for none.
	cookie     string
	cookiePath string
	cookieTTL  time.Duration // 0: a session cookie
	// connectTimeout is the TCP connect timeout, 0 for Istio's default.
	connectTimeout time.Duration
}

// sourceRanges are the client address ranges an Ingress is restricted to
// (allow) or closed to (deny), as CIDRs.
type sourceRanges struct {
	allow, deny []string
}

// nginxObjects is what an Ingress's annotations of this file ask for.
type nginxObjects struct {
	policy      destinationPolicy
	ranges      sourceRanges
	passthrough bool
	// closed is set when a source-range annotation cannot be carried over
	// (a bad CIDR, a route that no policy can cover): the Ingress then
	// gets no route at all, since serving it open would make a private
	// Ingress public.
	closed bool
}

// restricted reports whether source ranges apply.
func (n *nginxObjects) restricted() bool {
	return n != nil && (len(n.ranges.allow) > 0 || len(n.ranges.deny) > 0)
}

// parseNginxObjects reads the annotations of this file into a.objects, after
// a's routes are known, recording problems in d when it is not nil. An
// Ingress whose source ranges cannot be enforced loses all its routes
// (fail closed). An Ingress without annotations returns at once.
func (s Settings) parseNginxObjects(a *Analysis, c Services, d *Diagnostics) {
	ing := a.Ingress
	if len(ing.Annotations) == 0 || !hasNginx(ing) {
		return
	}
	n := &nginxObjects{}
	read := &nginxAnnotation{ing: ing, d: d}
	bad := func(name, value, why string) { read.invalid(name, value, "%s", why) }
	if v, ok := nginxValue(ing, nginxBackendProtocol); ok {
		switch p := strings.ToUpper(strings.TrimSpace(v)); p {
		case "HTTP", "AUTO_HTTP":
		case "HTTPS", "GRPCS":
			n.policy.tls = true
			if p == "GRPCS" && d != nil {
				s.warnGRPC(a, c, d, v)
			}
		case "GRPC":
			if d != nil {
				s.warnGRPC(a, c, d, v)
			}
		case "FCGI", "AJP":
			bad(nginxBackendProtocol, v, "Istio's gateway speaks only HTTP, HTTP/2 and gRPC (over TLS or not) to a backend, not FastCGI or AJP, so this Ingress would reach it over HTTP; serve the application over HTTP (for FastCGI, put a web server such as nginx beside php-fpm in the pod) and remove the annotation")
		default:
			bad(nginxBackendProtocol, v, "not a backend protocol: ingress-nginx takes HTTP, HTTPS, AUTO_HTTP, GRPC, GRPCS, FCGI or AJP (H2C is not one: to speak cleartext HTTP/2 to a backend under Istio, name its Service port http2 or set appProtocol: kubernetes.io/h2c); write one of those or remove it")
		}
	}
	s.parseBalancing(ing, n, bad, d)
	if v, ok := nginxValue(ing, nginxConnectTimeout); ok {
		if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
			n.policy.connectTimeout = time.Duration(secs) * time.Second
		} else {
			bad(nginxConnectTimeout, v, "must be a whole number of seconds greater than 0, as ingress-nginx reads it (such as \"5\"); it becomes the DestinationRule's connectionPool.tcp.connectTimeout")
		}
	}
	for _, r := range []struct {
		name string
		into *[]string
	}{{nginxAllowSourceRange, &n.ranges.allow}, {nginxAllowSourceOld, &n.ranges.allow}, {nginxDenySourceRange, &n.ranges.deny}} {
		v, ok := nginxValue(ing, r.name)
		if !ok || len(*r.into) > 0 { // allowlist- wins over its old name
			continue
		}
		cidrs, problem := parseCIDRs(v)
		if problem != "" {
			bad(r.name, v, problem)
			n.closed = true
		}
		*r.into = cidrs
	}
	if n.restricted() {
		s.checkRestricted(a, n, d)
	}
	if v, ok := nginxValue(ing, nginxSSLPassthrough); ok {
		switch b, err := strconv.ParseBool(strings.TrimSpace(v)); {
		case err != nil:
			bad(nginxSSLPassthrough, v, "must be \"true\" or \"false\"")
		case b:
			n.passthrough = s.checkPassthrough(a, d)
		}
	}
	if n.closed {
		a.routes, a.fallback = a.routes[:0], nil
	}
	if n.policy != (destinationPolicy{}) || n.restricted() || n.passthrough || n.closed {
		a.objects = n
	}
}

// parseBalancing reads affinity, session-cookie-*, affinity-mode and
// load-balance into n.
func (s Settings) parseBalancing(ing *networkingv1.Ingress, n *nginxObjects, bad func(name, value, why string), d *Diagnostics) {
	if v, ok := nginxValue(ing, nginxLoadBalance); ok {
		switch strings.TrimSpace(v) {
		case "round_robin":
			n.policy.lb = "ROUND_ROBIN"
		case "ewma":
			n.policy.lb = "LEAST_REQUEST"
		default:
			bad(nginxLoadBalance, v, "ingress-nginx balances by round_robin or ewma; Istio's equivalents are ROUND_ROBIN and LEAST_REQUEST; write one of those two, or use affinity: cookie for sticky sessions")
		}
	}
	v, ok := nginxValue(ing, nginxAffinity)
	if !ok {
		return
	}
	if strings.TrimSpace(v) != "cookie" {
		bad(nginxAffinity, v, "ingress-nginx knows only affinity: cookie, which becomes the DestinationRule's loadBalancer.consistentHash.httpCookie; write cookie or remove it")
		return
	}
	n.policy.cookie, n.policy.cookiePath = nginxCookieDefault, "/"
	if name, ok := nginxValue(ing, nginxCookieName); ok {
		if name = strings.TrimSpace(name); validCookieName(name) {
			n.policy.cookie = name
		} else {
			bad(nginxCookieName, name, "not a cookie name (RFC 6265 token: letters, digits and !#$%&'*+-.^_`|~); write a name such as INGRESSCOOKIE")
		}
	}
	if p, ok := nginxValue(ing, nginxCookiePath); ok {
		if p = strings.TrimSpace(p); strings.HasPrefix(p, "/") && !strings.ContainsAny(p, "; \t") {
			n.policy.cookiePath = p
		} else {
			bad(nginxCookiePath, p, "must be a path starting with / (no ';' or spaces)")
		}
	}
	for _, name := range []string{nginxCookieExpires, nginxCookieMaxAge} { // max-age wins, as in browsers
		if t, ok := nginxValue(ing, name); ok {
			if secs, err := strconv.Atoi(strings.TrimSpace(t)); err == nil && secs > 0 {
				n.policy.cookieTTL = time.Duration(secs) * time.Second
			} else {
				bad(name, t, "must be a whole number of seconds greater than 0; it becomes the cookie's ttl (leave it out for a session cookie)")
			}
		}
	}
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

// parseCIDRs parses a comma-separated list of addresses and CIDRs, as
// ingress-nginx reads its source ranges; a bare address is one host.
func parseCIDRs(v string) ([]string, string) {
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked().String())
			continue
		}
		if ip, err := netip.ParseAddr(part); err == nil && ip.Zone() == "" {
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()).String())
			continue
		}
		return nil, fmt.Sprintf("%q is not an IP address or CIDR (such as 10.0.0.0/8 or 192.0.2.7); the whole list is refused and the Ingress is not served until it is fixed, because serving it without the restriction would make it public", part)
	}
	if len(out) == 0 {
		return nil, "names no address range; write CIDRs separated by commas, such as 10.0.0.0/8,192.0.2.0/24, or remove the annotation"
	}
	return out, ""
}

// checkRestricted closes an Ingress with source ranges that has a route no
// AuthorizationPolicy of ours can confine to that route's requests: a
// route of a rule without host or of a single-label or wildcard host
// (their VirtualServices also answer for other hosts' names), and a
// defaultBackend (which catches every host).
func (s Settings) checkRestricted(a *Analysis, n *nginxObjects, d *Diagnostics) {
	for _, r := range a.routes {
		if r.Host == "" || singleLabel(r.Host) || strings.HasPrefix(r.Host, "*") {
			n.closed = true
			if d != nil {
				d.Errors = append(d.Errors, field.Invalid(field.NewPath("spec", "rules").Index(r.rule).Child("host"), r.Host,
					"with a source-range annotation every rule needs one fully qualified host: the AuthorizationPolicy that enforces the ranges on Istio's gateway names the hosts it covers, and a rule without host, with a single-label or a wildcard host would be served open; name the host, or move the rule to an Ingress without source ranges"))
			}
			break
		}
	}
	if a.Ingress.Spec.DefaultBackend != nil {
		n.closed = true
		if d != nil {
			d.Errors = append(d.Errors, field.Invalid(field.NewPath("spec", "defaultBackend"), "",
				"with a source-range annotation an Ingress cannot have a defaultBackend: it answers for every host, and no AuthorizationPolicy of one host can restrict it; replace it with a rule for a named host"))
		}
	}
}

// warnGRPC warns, for each backend of a, when Istio would not speak
// HTTP/2 to the Service port: nginx's GRPC and GRPCS say so by
// annotation, Istio reads it from the port's name or appProtocol.
func (s Settings) warnGRPC(a *Analysis, c Services, d *Diagnostics, value string) {
	ing := a.Ingress
	var seen []string
	check := func(b *networkingv1.IngressBackend, f *field.Path) {
		if b == nil || b.Service == nil || b.Service.Name == "" || slices.Contains(seen, b.Service.Name+"/"+b.Service.Port.String()) {
			return
		}
		seen = append(seen, b.Service.Name+"/"+b.Service.Port.String())
		svc, ok := c.Service(ing.Namespace, b.Service.Name)
		if ok && grpcPort(svc, b.Service.Port) {
			return
		}
		d.warn(f, "backend-protocol %s: Istio speaks gRPC (HTTP/2) to a Service port only when the port is named grpc or grpc-*, or has appProtocol: grpc; name Service %s/%s's port so, else Istio may send HTTP/1.1 and the gRPC calls fail",
			value, ing.Namespace, b.Service.Name)
	}
	check(ing.Spec.DefaultBackend, field.NewPath("spec", "defaultBackend", "service", "port"))
	for ri, rule := range ing.Spec.Rules {
		if rule.HTTP != nil {
			for pi := range rule.HTTP.Paths {
				check(&rule.HTTP.Paths[pi].Backend, pathField(ri, pi).Child("backend", "service", "port"))
			}
		}
	}
}

// grpcPort reports whether the port of svc that port names tells Istio to
// speak gRPC.
func grpcPort(svc *corev1.Service, port networkingv1.ServiceBackendPort) bool {
	for _, p := range svc.Spec.Ports {
		if port.Name != "" && p.Name != port.Name || port.Name == "" && p.Port != port.Number {
			continue
		}
		if p.AppProtocol != nil {
			return *p.AppProtocol == "grpc"
		}
		return p.Name == "grpc" || strings.HasPrefix(p.Name, "grpc-")
	}
	return false
}

// checkPassthrough checks an Ingress with ssl-passthrough: every host
// must be fully qualified, have a Prefix "/" route (its backend gets the
// TLS connections) and no tls entry of its own. It reports whether
// passthrough applies.
func (s Settings) checkPassthrough(a *Analysis, d *Diagnostics) bool {
	ok := true
	f := annotationField(NginxPrefix + nginxSSLPassthrough)
	fail := func(why string) {
		ok = false
		if d != nil {
			d.Errors = append(d.Errors, field.Invalid(f, "true", why))
		}
	}
	if len(a.Ingress.Spec.TLS) > 0 {
		fail("the gateway hands TLS connections for these hosts to the backend unopened, so a tls entry's certificate would never be served (ingress-nginx ignores it too); remove spec.tls, or remove ssl-passthrough to terminate TLS at the gateway")
	}
	for _, h := range a.Hosts {
		if h == "" || singleLabel(h) {
			fail("passthrough picks the backend by the TLS server name (SNI), so every rule needs a fully qualified host; this Ingress has a rule without one")
			continue
		}
		if a.passthroughRoute(h) == nil {
			fail(fmt.Sprintf("host %q has no path / of pathType Prefix: its backend is the one that gets the TLS connections (ingress-nginx uses the same); add one", h))
		}
	}
	if d != nil && ok {
		for _, r := range a.routes {
			if r.Match != (Match{Kind: Prefix, Path: "/"}) {
				d.warn(pathField(r.rule, r.path), "with ssl-passthrough this path is served over plain HTTP only: HTTPS connections for host %q go whole to the backend of path /, which sees the paths itself (as with ingress-nginx)", r.Host)
			}
		}
	}
	return ok
}

// passthroughRoute is a's Prefix "/" route for host h, or nil.
func (a *Analysis) passthroughRoute(h string) *route {
	for i, r := range a.routes {
		if r.Host == h && r.Match == (Match{Kind: Prefix, Path: "/"}) {
			return &a.routes[i]
		}
	}
	return nil
}

// DestinationServices lists the Services ("namespace/name") whose
// DestinationRule an Ingress's annotations shape: every backend Service of
// an Ingress with backend-protocol, affinity, load-balance or
// proxy-connect-timeout; none otherwise, at the cost of one map lookup for
// an Ingress without annotations.
func DestinationServices(ing *networkingv1.Ingress) []string {
	if len(ing.Annotations) == 0 {
		return nil
	}
	found := false
	for _, k := range []string{nginxBackendProtocol, nginxAffinity, nginxLoadBalance, nginxConnectTimeout} {
		if _, ok := nginxValue(ing, k); ok {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	return backendServices(ing, func(svc *networkingv1.IngressServiceBackend) bool { return svc.Name != "" })
}
