package convert

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	istioapi "istio.io/api/networking/v1alpha3"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nginxRoutes are the ingress-nginx annotations of one Ingress that shape
// its routes in the VirtualService (README, "What the translations do").
// Every route of the Ingress carries them.
type nginxRoutes struct {
	rewrite      string                 // rewrite-target: the whole path becomes this
	appRoot      string                 // app-root: "/" redirects here (302)
	redirect     *istioapi.HTTPRedirect // permanent-redirect or temporal-redirect
	sslRedirect  bool                   // ssl-redirect: plain HTTP redirects when the host has a certificate
	forceSSL     bool                   // force-ssl-redirect: plain HTTP redirects always
	timeout      *durationpb.Duration   // the larger of proxy-read-timeout and proxy-send-timeout
	cors         *istioapi.CorsPolicy   // enable-cors and cors-*
	authority    string                 // upstream-vhost
	prefixHeader string                 // x-forwarded-prefix, sent only with a rewrite, as nginx does
	canary       *canary                // canary: the routes merge into the primary Ingress's
}

// canary is how a canary Ingress's backend takes traffic from the primary
// Ingress's route for the same host and path, in nginx's order of
// precedence: header, then cookie, then weight.
type canary struct {
	header, headerValue string // canary-by-header[-value]; header is lower case
	cookie              string // canary-by-cookie
	weight, total       int32  // canary-weight of canary-weight-total
}

// nginxAnnotation reads ingress-nginx annotations of one Ingress, recording
// bad values as field errors when diagnosing.
type nginxAnnotation struct {
	ing *networkingv1.Ingress
	d   *Diagnostics // nil: no diagnostics
	set bool         // some annotation of ours was read
}

// get returns the value of annotation name, if present.
func (p *nginxAnnotation) get(name string) (string, bool) {
	v, ok := nginxValue(p.ing, name)
	if ok {
		p.set = true
	}
	return v, ok
}

// invalid records that annotation name has value v, which Istio cannot
// serve, for the reason why.
func (p *nginxAnnotation) invalid(name, v, why string, args ...any) {
	if p.d != nil {
		p.d.Errors = append(p.d.Errors, field.Invalid(annotationField(NginxPrefix+name), v, fmt.Sprintf(why, args...)))
	}
}

// warn records a warning on annotation name.
func (p *nginxAnnotation) warn(name, format string, args ...any) {
	if p.d != nil {
		p.d.warn(annotationField(NginxPrefix+name), format, args...)
	}
}

// flag reads a boolean annotation as nginx does (strconv.ParseBool).
func (p *nginxAnnotation) flag(name string) bool {
	v, ok := p.get(name)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.invalid(name, v, `must be "true" or "false"`)
	}
	return b
}

// number reads an integer annotation in [lo, hi]; def when absent or bad.
func (p *nginxAnnotation) number(name string, lo, hi, def int64, unit string) int64 {
	v, ok := p.get(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < lo || n > hi {
		p.invalid(name, v, "must be a whole number of %s from %d to %d", unit, lo, hi)
		return def
	}
	return n
}

// parseNginxRoutes reads the route-shaping ingress-nginx annotations of
// ing; nil when it has none. Callers guard on len(ing.Annotations), so an
// Ingress without annotations pays nothing.
func parseNginxRoutes(ing *networkingv1.Ingress, d *Diagnostics) *nginxRoutes {
	if !hasNginx(ing) {
		return nil
	}
	p := &nginxAnnotation{ing: ing, d: d}
	n := &nginxRoutes{}
	n.rewrite = p.path("rewrite-target", true)
	n.appRoot = p.path("app-root", false)
	n.redirect = p.redirects()
	n.sslRedirect = p.flag("ssl-redirect")
	n.forceSSL = p.flag("force-ssl-redirect")
	n.timeout = p.timeout()
	n.cors = p.cors()
	if v, ok := p.get("upstream-vhost"); ok {
		if h := strings.TrimSpace(v); h == "" || strings.ContainsAny(h, " /\\\"'$") {
			p.invalid("upstream-vhost", v, "must be a host name, with an optional port, such as backend.example.com; it becomes the Host header the backend receives")
		} else {
			n.authority = h
		}
	}
	if v, ok := p.get("x-forwarded-prefix"); ok {
		switch {
		case !validHeaderValue(v) || v == "":
			p.invalid("x-forwarded-prefix", v, "must be a printable header value, such as /app")
		case n.rewrite == "":
			p.warn("x-forwarded-prefix", "ingress-nginx sends X-Forwarded-Prefix only with rewrite-target, so it is ignored here as it was there; add rewrite-target or remove it")
		default:
			n.prefixHeader = v
		}
	}
	n.canary = p.canary()
	if !p.set {
		return nil
	}
	return n
}

// capture finds nginx's capture groups and variables ($1, $host).
var capture = regexp.MustCompile(`\$[0-9A-Za-z_{]`)

// path reads rewrite-target or app-root: a path without capture groups.
func (p *nginxAnnotation) path(name string, rewrite bool) string {
	v, ok := p.get(name)
	if !ok {
		return ""
	}
	switch {
	case capture.MatchString(v):
		if rewrite {
			p.invalid(name, v, "$1-style groups and nginx variables take parts of a regular-expression path, and Istio matches paths only exactly or by prefix (ingressguard refuses regex paths and use-regex), so there is nothing to take them from; write a fixed path such as /, which every request of the Ingress's paths is rewritten to, as nginx does without groups")
		} else {
			p.invalid(name, v, "nginx variables and $1-style groups have no meaning in Istio's redirect; write the fixed path that \"/\" redirects to, such as /app")
		}
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		p.invalid(name, v, "an absolute URL makes nginx redirect instead of rewriting; use permanent-redirect or temporal-redirect for a redirect, or write a path starting with /")
	case !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "?#\\ \"'") || !validHeaderValue(v):
		p.invalid(name, v, "must be a path starting with / without query, fragment, spaces or quotes, such as /app")
	default:
		return v
	}
	return ""
}

// validHeaderValue reports whether v has only printable characters.
func validHeaderValue(v string) bool {
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// redirectCodes are the redirect codes Envoy answers with.
var redirectCodes = []int64{301, 302, 303, 307, 308}

// redirects reads temporal-redirect, which nginx prefers, then
// permanent-redirect, with their codes.
func (p *nginxAnnotation) redirects() *istioapi.HTTPRedirect {
	for _, r := range []struct {
		name string
		def  int64
	}{{"temporal-redirect", 302}, {"permanent-redirect", 301}} {
		v, ok := p.get(r.name)
		if !ok {
			continue
		}
		code := p.number(r.name+"-code", 300, 399, r.def, "HTTP status")
		if !slices.Contains(redirectCodes, code) {
			p.invalid(r.name+"-code", strconv.FormatInt(code, 10), "Envoy redirects only with 301, 302, 303, 307 or 308; use one of them")
			code = r.def
		}
		u, err := url.Parse(strings.TrimSpace(v))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
			p.invalid(r.name, v, "must be an absolute http or https URL such as https://www.example.com/path, which every request of the Ingress's paths is redirected to")
			return nil
		}
		red := &istioapi.HTTPRedirect{Scheme: u.Scheme, Authority: u.Hostname(), Uri: u.EscapedPath(), RedirectCode: uint32(code)}
		if red.Uri == "" {
			red.Uri = "/"
		}
		if u.RawQuery != "" {
			red.Uri += "?" + u.RawQuery
		}
		if port := u.Port(); port != "" {
			n, err := strconv.ParseUint(port, 10, 16)
			if err != nil || n == 0 {
				p.invalid(r.name, v, "has an invalid port; write a port from 1 to 65535")
				return nil
			}
			red.RedirectPort = &istioapi.HTTPRedirect_Port{Port: uint32(n)}
		}
		return red
	}
	return nil
}

// timeout is the larger of proxy-read-timeout and proxy-send-timeout, in
// seconds, as the route's total timeout.
func (p *nginxAnnotation) timeout() *durationpb.Duration {
	const day = 24 * 3600
	read := p.number("proxy-read-timeout", 1, day, 0, "seconds")
	send := p.number("proxy-send-timeout", 1, day, 0, "seconds")
	if t := max(read, send); t > 0 {
		return &durationpb.Duration{Seconds: t}
	}
	return nil
}

// nginx's CORS defaults (internal/ingress/annotations/cors).
const (
	corsMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	corsHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	corsMaxAge  = 1728000
)

var (
	corsOrigin    = regexp.MustCompile(`^[a-z]+://(\*\.)?[A-Za-z0-9\-.]*(:\d+)?$`)
	httpMethods   = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "CONNECT": true, "TRACE": true}
	headerNameRaw = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
)

// cors reads enable-cors and the cors-* annotations, with nginx's
// defaults for those absent.
func (p *nginxAnnotation) cors() *istioapi.CorsPolicy {
	if !p.flag("enable-cors") {
		return nil
	}
	c := &istioapi.CorsPolicy{}
	origins, ok := p.get("cors-allow-origin")
	if !ok || strings.TrimSpace(origins) == "" {
		origins = "*"
	}
	anyOrigin := false
	for _, o := range strings.Split(origins, ",") {
		switch o = strings.TrimSpace(o); {
		case o == "":
		case o == "*":
			anyOrigin = true
		case o == "null":
			c.AllowOrigins = append(c.AllowOrigins, &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: o}})
		case !corsOrigin.MatchString(o):
			p.invalid("cors-allow-origin", origins, "origin %q is not scheme://host[:port] (or scheme://*.domain[:port], or *); fix or remove it", o)
		case strings.Contains(o, "://*."):
			scheme, rest, _ := strings.Cut(o, "://*.")
			c.AllowOrigins = append(c.AllowOrigins, &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Regex{
				Regex: regexp.QuoteMeta(scheme+"://") + `[A-Za-z0-9\-]+\.` + regexp.QuoteMeta(rest)}})
		default:
			c.AllowOrigins = append(c.AllowOrigins, &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Exact{Exact: o}})
		}
	}
	credentials := true
	if v, ok := p.get("cors-allow-credentials"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.invalid("cors-allow-credentials", v, `must be "true" or "false"`)
		}
		credentials = b
		if anyOrigin && b {
			p.warn("cors-allow-credentials", "with cors-allow-origin \"*\" nginx answers Access-Control-Allow-Origin: *, with which browsers never send credentials; Envoy would echo each origin and let every site send them, so credentials stay off; list the origins in cors-allow-origin to allow credentials")
		}
	}
	if anyOrigin {
		// nginx answers "*", with which browsers refuse credentials;
		// Envoy echoes the origin, so credentials must stay off to keep
		// that.
		c.AllowOrigins = []*istioapi.StringMatch{{MatchType: &istioapi.StringMatch_Regex{Regex: ".*"}}}
		credentials = false
	}
	c.AllowCredentials = wrapperspb.Bool(credentials)
	methods, ok := p.get("cors-allow-methods")
	if !ok {
		methods = corsMethods
	}
	for _, m := range splitList(methods) {
		if !httpMethods[strings.ToUpper(m)] {
			p.invalid("cors-allow-methods", methods, "%q is not an HTTP method Envoy's CORS filter accepts; use methods such as GET, POST, PUT, DELETE, PATCH, OPTIONS", m)
			continue
		}
		c.AllowMethods = append(c.AllowMethods, strings.ToUpper(m))
	}
	headers, ok := p.get("cors-allow-headers")
	if !ok {
		headers = corsHeaders
	}
	c.AllowHeaders = p.headerNames("cors-allow-headers", headers)
	if v, ok := p.get("cors-expose-headers"); ok {
		c.ExposeHeaders = p.headerNames("cors-expose-headers", v)
	}
	c.MaxAge = &durationpb.Duration{Seconds: p.number("cors-max-age", 1, 1<<31-1, corsMaxAge, "seconds")}
	return c
}

// headerNames splits a list of header names, refusing invalid ones.
func (p *nginxAnnotation) headerNames(name, list string) []string {
	var out []string
	for _, h := range splitList(list) {
		if h != "*" && !headerNameRaw.MatchString(h) {
			p.invalid(name, list, "%q is not a header name; use names such as X-Requested-With", h)
			continue
		}
		out = append(out, h)
	}
	return out
}

// splitList splits a comma-separated list, trimming spaces.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// canary reads canary and its canary-* annotations; nginx ignores them
// unless canary is "true".
func (p *nginxAnnotation) canary() *canary {
	if !p.flag("canary") {
		return nil
	}
	c := &canary{}
	c.total = int32(p.number("canary-weight-total", 1, 1<<30, 100, "units of weight"))
	c.weight = int32(p.number("canary-weight", 0, int64(c.total), 0, "units of weight (up to canary-weight-total)"))
	if v, ok := p.get("canary-by-header"); ok {
		if h := strings.TrimSpace(v); !headerNameRaw.MatchString(h) {
			p.invalid("canary-by-header", v, "must be a header name such as X-Canary")
		} else {
			c.header = strings.ToLower(h)
		}
	}
	if v, ok := p.get("canary-by-header-value"); ok && c.header != "" {
		if !validHeaderValue(v) || v == "" {
			p.invalid("canary-by-header-value", v, "must be a printable header value")
		} else {
			c.headerValue = v
		}
	}
	if v, ok := p.get("canary-by-cookie"); ok {
		if h := strings.TrimSpace(v); !headerNameRaw.MatchString(h) {
			p.invalid("canary-by-cookie", v, "must be a cookie name such as canary")
		} else {
			c.cookie = h
		}
	}
	return c
}

// cookieMatch matches a Cookie header in which cookie name has value.
func cookieMatch(name, value string) *istioapi.StringMatch {
	return &istioapi.StringMatch{MatchType: &istioapi.StringMatch_Regex{
		Regex: `(.*;\s*)?` + regexp.QuoteMeta(name+"="+value) + `(;.*)?`}}
}
