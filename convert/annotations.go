package convert

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NginxPrefix is the prefix of ingress-nginx's annotations.
const NginxPrefix = "nginx.ingress.kubernetes.io/"

// Answer is what ingressguard does with one annotation of another ingress
// controller on an Ingress of ours.
type Answer string

const (
	// Translated: the annotation is carried into the generated Istio
	// objects (README, "Annotations of other controllers").
	Translated Answer = "translated"
	// Refused: serving the Ingress without it would be wrong or unsafe, so
	// admission refuses it unless an admin accepts it knowingly.
	Refused Answer = "refused"
	// Ignored: Istio ignores it; admission warns, with the equivalent
	// where there is one.
	Ignored Answer = "ignored"
)

// nginxValue returns the value of ingress-nginx annotation name (without
// NginxPrefix) on ing.
func nginxValue(ing *networkingv1.Ingress, name string) (string, bool) {
	if len(ing.Annotations) == 0 {
		return "", false
	}
	v, ok := ing.Annotations[NginxPrefix+name]
	return v, ok
}

// annotationField is the field path of annotation key, for messages.
func annotationField(key string) *field.Path {
	return field.NewPath("metadata", "annotations").Key(key)
}

// hasNginx reports whether ing has any ingress-nginx annotation: the one
// test an Ingress without them pays.
func hasNginx(ing *networkingv1.Ingress) bool {
	for k := range ing.Annotations {
		if strings.HasPrefix(k, NginxPrefix) {
			return true
		}
	}
	return false
}

// AnnotationAnswer says what ingressguard does with annotation key (the
// whole key, prefix included) on an Ingress of ours: the catalogue's answer
// for an ingress-nginx annotation (Ignored for a name ingress-nginx does
// not have), Ignored for another controller's; false when key is not
// another ingress controller's annotation.
func AnnotationAnswer(key string) (Answer, bool) {
	if name, ok := strings.CutPrefix(key, NginxPrefix); ok {
		if e, ok := lookupNginx(name); ok {
			return e.Answer, true
		}
		return Ignored, true
	}
	if otherController(key) != nil {
		return Ignored, true
	}
	return "", false
}

// AnnotationAnswerOn is AnnotationAnswer for key on an Ingress whose
// annotations are on, as admission answers it there: a refused
// ingress-nginx annotation that only modifies another
// (NginxAnnotation.With) that on lacks did nothing under ingress-nginx
// either, and is only warned of as ignored.
func AnnotationAnswerOn(key string, on map[string]string) (Answer, bool) {
	a, ok := AnnotationAnswer(key)
	if a != Refused {
		return a, ok
	}
	if e, known := lookupNginx(strings.TrimPrefix(key, NginxPrefix)); known && e.With != "" {
		if _, head := on[NginxPrefix+e.With]; !head {
			return Ignored, true
		}
	}
	return a, ok
}

// AcceptAnnotation lets an Ingress's author accept refused ingress-nginx
// annotations knowingly: a comma-separated list of their names, without
// NginxPrefix, such as "auth-url,configuration-snippet". Each accepted
// refusal becomes a warning that still says what is lost. Settings
// AcceptAnnotations is the same choice for the whole cluster.
const AcceptAnnotation = "ingressguard.io/accept-annotations"

// NginxAnnotation is one annotation of ingress-nginx's last release and
// what ingressguard does with it.
type NginxAnnotation struct {
	// Name is the annotation's name without NginxPrefix.
	Name string
	// Answer is Translated, Refused or Ignored.
	Answer Answer
	// With names the annotation this one only modifies under ingress-nginx
	// (auth-signin goes with auth-url). When both are on an Ingress and
	// that one is not translated, one diagnostic on it covers both.
	With string
	// AliasOf names the annotation this one is an old name of.
	AliasOf string
	// Nginx says what ingress-nginx does with it.
	Nginx string
	// Istio is the Istio equivalent, or what Istio offers instead.
	Istio string
	// Difference is the difference of meaning under Istio ("none" when
	// there is none), or what is lost.
	Difference string
}

// NginxAnnotations iterates over every annotation of ingress-nginx's last
// release, in name order, with what ingressguard does with it: the table
// of README.md's "Annotations of other controllers".
func NginxAnnotations() iter.Seq[NginxAnnotation] { return slices.Values(nginxCatalogue) }

// nginxIndex finds an entry of nginxCatalogue by name.
var nginxIndex = func() map[string]int {
	m := make(map[string]int, len(nginxCatalogue))
	for i, e := range nginxCatalogue {
		m[e.Name] = i
	}
	return m
}()

// lookupNginx finds the catalogue's entry of name (without NginxPrefix).
func lookupNginx(name string) (*NginxAnnotation, bool) {
	i, ok := nginxIndex[name]
	if !ok {
		return nil, false
	}
	return &nginxCatalogue[i], true
}

// acceptName is a name as AcceptAnnotation and AcceptAnnotations take it:
// NginxPrefix is allowed.
func acceptName(s string) string {
	return strings.TrimPrefix(strings.TrimSpace(s), NginxPrefix)
}

// checkAcceptAnnotations reports the names of AcceptAnnotations that
// cannot be accepted.
func checkAcceptAnnotations(names []string) []string {
	var bad []string
	for _, n := range names {
		if n = acceptName(n); n == "*" {
			continue
		}
		if !refused(n) {
			bad = append(bad, fmt.Sprintf("%q", n))
		}
	}
	return bad
}

// refused reports whether name is a refused annotation of ingress-nginx,
// one that can be accepted.
func refused(name string) bool {
	e, ok := lookupNginx(name)
	return ok && e.Answer == Refused
}

// checkAnnotations gives ing's annotations of other ingress controllers
// their answers (SPEC section 7): an error for a refused one, unless
// accepted, a warning for an ignored one, one diagnostic for an annotation
// and those that go with it, and one warning per other controller.
// Translated ones are the translation's to check. The keys are sorted, so
// the order of the diagnostics does not depend on the map's.
func (s Settings) checkAnnotations(ing *networkingv1.Ingress, d *Diagnostics) {
	var keys []string
	for k := range ing.Annotations {
		if strings.HasPrefix(k, NginxPrefix) || otherController(k) != nil {
			if keys == nil {
				keys = make([]string, 0, len(ing.Annotations))
			}
			keys = append(keys, k)
		}
	}
	accepted := acceptedOn(ing, d)
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	var others []otherGroup
	for _, k := range keys {
		name, ok := strings.CutPrefix(k, NginxPrefix)
		if !ok {
			others = addOther(others, k)
			continue
		}
		e, known := lookupNginx(name)
		if !known {
			d.warn(annotationField(k), "ignored by Istio: ingress-nginx %s has no annotation of this name, and Istio ignores every %s annotation; check the spelling against the table in ingressguard's README", nginxRelease, NginxPrefix)
			continue
		}
		head, headOn := lookupNginx(e.With)
		if headOn {
			_, headOn = ing.Annotations[NginxPrefix+e.With]
		}
		switch {
		case e.Answer == Translated:
		case headOn && head.Answer != Translated:
			// Reported with its head.
		case e.Answer == Refused && e.With != "":
			d.warn(annotationField(k), "ignored by Istio: under ingress-nginx this annotation %s, but only together with %s%s, which this Ingress does not have, so it did nothing there either; remove it", e.Nginx, NginxPrefix, e.With)
		case e.Answer == Refused:
			s.refuse(k, e, companions(keys, e), accepted, d)
		default:
			d.warn(annotationField(k), "ignored by Istio%s: under ingress-nginx this annotation %s; under Istio, %s; equivalent: %s", with(companions(keys, e)), e.Nginx, e.Difference, e.Istio)
		}
	}
	warnPlainHTTP(ing, keys, d)
	for _, g := range others {
		f, what := field.NewPath("metadata", "annotations"), "annotations "+strings.Join(g.keys, ", ")
		if len(g.keys) == 1 {
			f, what = annotationField(g.keys[0]), "an annotation"
		}
		d.warn(f, "ignored by Istio: %s of %s, which does not serve this Ingress; %s; if any restricted access (authentication, client addresses), this Ingress is served without that restriction", what, g.c.name, g.c.hint)
	}
}

// warnPlainHTTP warns an Ingress that comes from ingress-nginx (keys, its
// annotations of other controllers, has one of nginx's) that its hosts
// with a tls entry are now served over plain HTTP too: ingress-nginx
// redirects them to HTTPS unless ssl-redirect says "false", Istio only
// when it says "true", and nothing else would tell. Setting ssl-redirect
// or force-ssl-redirect either way says which is meant, and ends the
// warning; with ssl-passthrough the gateway terminates no TLS (its own
// checks say what that serves).
func warnPlainHTTP(ing *networkingv1.Ingress, keys []string, d *Diagnostics) {
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, NginxPrefix) }) {
		return
	}
	for _, name := range []string{"ssl-redirect", "force-ssl-redirect", "ssl-passthrough"} {
		if _, set := ing.Annotations[NginxPrefix+name]; set {
			return
		}
	}
	tls := TLSHosts(ing)
	var hosts []string
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil && slices.Contains(tls, r.Host) && !slices.Contains(hosts, r.Host) {
			hosts = append(hosts, r.Host)
		}
	}
	if len(hosts) == 0 {
		return
	}
	d.warn(annotationField(NginxPrefix+"ssl-redirect"), "not set: ingress-nginx redirects plain HTTP to HTTPS (308) by default on a host with a tls entry, here %s; Istio does not, so this Ingress's routes are now also served over plain HTTP; set it to \"true\" to keep the redirect, or to \"false\" if plain HTTP is meant", strings.Join(hosts, ", "))
}

// refuse answers refused annotation e at key, with the keys of the
// annotations that go with it: an error, or a warning if accepted.
func (s Settings) refuse(key string, e *NginxAnnotation, comps []string, byIngress []string, d *Diagnostics) {
	msg := fmt.Sprintf("under ingress-nginx this annotation %s%s; Istio ignores it, so %s. Instead: %s", e.Nginx, with(comps), e.Difference, e.Istio)
	switch {
	case slices.Contains(byIngress, e.Name):
		d.warn(annotationField(key), "accepted by annotation %s: %s", AcceptAnnotation, msg)
	case s.accepts(e.Name):
		d.warn(annotationField(key), "accepted by the cluster's --accept-annotations: %s", msg)
	default:
		d.Errors = append(d.Errors, field.Forbidden(annotationField(key), fmt.Sprintf(
			"%s. To serve this Ingress without it knowingly, add %q to annotation %s (or an admin to --accept-annotations); until then ingressguard serves no route of it", msg, e.Name, AcceptAnnotation)))
	}
}

// accepts reports whether the settings accept refused annotation name.
func (s Settings) accepts(name string) bool {
	return slices.ContainsFunc(s.AcceptAnnotations, func(n string) bool { n = acceptName(n); return n == "*" || n == name })
}

// refusesAnnotation reports whether ing carries a refused ingress-nginx
// annotation that neither it nor the settings accept. Such an Ingress is
// not served at all, as a refused path is not: without the annotation it
// would be public or wrong. It formats no message.
func (s Settings) refusesAnnotation(ing *networkingv1.Ingress) bool {
	var byIngress []string
	parsed := false
	for k := range ing.Annotations {
		name, ok := strings.CutPrefix(k, NginxPrefix)
		if !ok {
			continue
		}
		if e, ok := lookupNginx(name); !ok || e.Answer != Refused || e.With != "" || s.accepts(name) {
			continue
		}
		if !parsed {
			byIngress, parsed = acceptedOn(ing, nil), true
		}
		if !slices.Contains(byIngress, name) {
			return true
		}
	}
	return false
}

// acceptedOn returns the names ing's AcceptAnnotation accepts, warning
// in d (when not nil) about those that are not refused annotations.
func acceptedOn(ing *networkingv1.Ingress, d *Diagnostics) []string {
	v, ok := ing.Annotations[AcceptAnnotation]
	if !ok {
		return nil
	}
	var names, bad []string
	for n := range strings.SplitSeq(v, ",") {
		if n = acceptName(n); n == "" {
			continue
		}
		if refused(n) {
			names = append(names, n)
		} else {
			bad = append(bad, fmt.Sprintf("%q", n))
		}
	}
	if len(bad) > 0 && d != nil {
		d.warn(annotationField(AcceptAnnotation), "names %s, which ingressguard does not refuse, so naming them accepts nothing; list only the refused annotations (such as auth-url) that this Ingress may be served without, by name", strings.Join(bad, ", "))
	}
	return names
}

// companions are the names of the annotations among keys that go with e.
func companions(keys []string, e *NginxAnnotation) []string {
	var out []string
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, NginxPrefix); ok {
			if c, ok := lookupNginx(name); ok && c.With == e.Name {
				out = append(out, name)
			}
		}
	}
	return out
}

// with is " (with NAMES)" for the annotations that go with another, or "".
func with(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return " (with " + strings.Join(keys, ", ") + ")"
}

// nginxRelease is the ingress-nginx release whose annotations the
// catalogue lists (testdata/nginx-annotations.txt).
const nginxRelease = "controller-v1.15.1"

// controllerInfo is another ingress controller whose annotations Istio
// ignores.
type controllerInfo struct {
	name string
	// keys are annotation key prefixes (ending in "/") or whole keys.
	keys []string
	// hint says where what they did goes under Istio.
	hint string
}

const (
	proxyHint = "what such annotations did belongs in Istio's own objects (VirtualService, DestinationRule, AuthorizationPolicy)"
	cloudHint = "such annotations configure a cloud load balancer that this Ingress no longer gets: traffic enters through the Istio ingress gateway's Service, whose own annotations configure its load balancer"
)

// otherControllers are the well-known ingress controllers besides
// ingress-nginx (README, "Annotations of other controllers").
var otherControllers = []controllerInfo{
	{name: "Traefik", keys: []string{"traefik.ingress.kubernetes.io/"}, hint: proxyHint},
	{name: "the HAProxy Kubernetes Ingress Controller", keys: []string{"haproxy.org/"}, hint: proxyHint},
	{name: "HAProxy Ingress", keys: []string{"haproxy-ingress.github.io/"}, hint: proxyHint},
	{name: "the OpenShift router (HAProxy)", keys: []string{"haproxy.router.openshift.io/", "router.openshift.io/"}, hint: proxyHint},
	{name: "the controllers that read the legacy prefix ingress.kubernetes.io/ (HAProxy Ingress, Contour, Traefik 1)", keys: []string{"ingress.kubernetes.io/"}, hint: proxyHint},
	{name: "the AWS Load Balancer Controller", keys: []string{"alb.ingress.kubernetes.io/"}, hint: cloudHint},
	{name: "GKE Ingress", keys: []string{"ingress.gcp.kubernetes.io/", "networking.gke.io/", "kubernetes.io/ingress.global-static-ip-name",
		"kubernetes.io/ingress.regional-static-ip-name", "kubernetes.io/ingress.allow-http", "kubernetes.io/ingress.pre-shared-cert"}, hint: cloudHint},
	{name: "the Azure Application Gateway Ingress Controller", keys: []string{"appgw.ingress.kubernetes.io/"}, hint: cloudHint},
	{name: "Kong", keys: []string{"konghq.com/", "configuration.konghq.com", "plugins.konghq.com"}, hint: proxyHint},
	{name: "Contour", keys: []string{"projectcontour.io/", "contour.heptio.com/"}, hint: proxyHint},
	{name: "F5 NGINX Ingress Controller", keys: []string{"nginx.org/", "nginx.com/"}, hint: proxyHint},
}

// otherController finds the controller whose annotation key is.
func otherController(key string) *controllerInfo {
	for i, c := range otherControllers {
		for _, k := range c.keys {
			if key == k || strings.HasSuffix(k, "/") && strings.HasPrefix(key, k) {
				return &otherControllers[i]
			}
		}
	}
	return nil
}

// otherGroup is one controller's annotations on an Ingress.
type otherGroup struct {
	c    *controllerInfo
	keys []string
}

// addOther adds key to its controller's group.
func addOther(groups []otherGroup, key string) []otherGroup {
	c := otherController(key)
	for i := range groups {
		if groups[i].c == c {
			groups[i].keys = append(groups[i].keys, key)
			return groups
		}
	}
	return append(groups, otherGroup{c: c, keys: []string{key}})
}

// nginxCatalogue is every annotation of ingress-nginx's last release
// (nginxRelease; testdata/nginx-annotations.txt lists them), in name order,
// with what ingressguard does with it. README.md's table "Annotations of
// other controllers" shows it; tests keep the three equal.
//
// The texts compose messages: an ignored one warns "ignored by Istio:
// under ingress-nginx this annotation <Nginx>; under Istio, <Difference>;
// equivalent: <Istio>"; a refused one is refused with "under ingress-nginx
// this annotation <Nginx>; Istio ignores it, so <Difference>. Instead:
// <Istio>".
var nginxCatalogue = []NginxAnnotation{
	{Name: "affinity", Answer: Translated, Nginx: "keeps a client on one endpoint with a cookie (the only type is cookie)",
		Istio:      "DestinationRule trafficPolicy.loadBalancer.consistentHash.httpCookie",
		Difference: "Envoy's ring hash moves some clients when endpoints change, as nginx's balanced mode does"},
	{Name: "affinity-canary-behavior", Answer: Ignored, Nginx: "keeps clients served by a canary on the canary (sticky) or not (legacy)",
		Difference: "the affinity cookie picks an endpoint within the chosen destination; the canary split is drawn per request",
		Istio:      "a header- or cookie-matched route keeps a client on the canary"},
	{Name: "affinity-mode", Answer: Ignored, Nginx: "chooses how sticky the affinity cookie is: balanced (default) or persistent",
		Difference: "Istio's consistent hash behaves as balanced: scaling the backend moves some sessions",
		Istio:      "persistent has no equivalent"},
	{Name: "allowlist-source-range", Answer: Translated, Nginx: "answers 403 to clients outside these CIDRs",
		Istio:      "an AuthorizationPolicy on the ingress gateway that denies other addresses for these hosts and paths (remoteIpBlocks)",
		Difference: "the client address is right only if the gateway sees it (externalTrafficPolicy: Local, or numTrustedProxies behind a load balancer); refused, with no route served, on a wildcard or single-label host, a rule without host or a defaultBackend"},
	{Name: "app-root", Answer: Translated, Nginx: "redirects requests for / to this path",
		Istio: "a VirtualService route for exact / with redirect.uri (302)", Difference: "Envoy keeps the request's query; nginx drops it"},
	{Name: "auth-always-set-cookie", Answer: Refused, With: "auth-url", Nginx: "passes the auth service's Set-Cookie to the client whatever the backend answers (by default only with 2xx and 3xx)",
		Istio: "the ext_authz provider's headersToDownstreamOnDeny and headersToDownstreamOnAllow", Difference: "see auth-url"},
	{Name: "auth-cache-duration", Answer: Refused, With: "auth-url", Nginx: "caches the auth service's answers by status for this long",
		Istio: "none: ext_authz asks the service on every request", Difference: "see auth-url"},
	{Name: "auth-cache-key", Answer: Refused, With: "auth-url", Nginx: "turns on caching of the auth service's answers under this key",
		Istio: "none: ext_authz asks the service on every request", Difference: "see auth-url"},
	{Name: "auth-keepalive", Answer: Refused, With: "auth-url", Nginx: "keeps this many connections to the auth service open",
		Istio: "Envoy pools connections to the ext_authz service itself", Difference: "see auth-url"},
	{Name: "auth-keepalive-requests", Answer: Refused, With: "auth-url", Nginx: "serves this many requests on one connection to the auth service",
		Istio: "Envoy pools connections to the ext_authz service itself", Difference: "see auth-url"},
	{Name: "auth-keepalive-share-vars", Answer: Refused, With: "auth-url", Nginx: "shares request variables between the main and the auth request",
		Istio: "none", Difference: "see auth-url"},
	{Name: "auth-keepalive-timeout", Answer: Refused, With: "auth-url", Nginx: "closes idle connections to the auth service after this many seconds",
		Istio: "Envoy pools connections to the ext_authz service itself", Difference: "see auth-url"},
	{Name: "auth-method", Answer: Refused, With: "auth-url", Nginx: "sends the auth request with this HTTP method",
		Istio: "none: ext_authz keeps the request's method", Difference: "see auth-url"},
	{Name: "auth-proxy-set-headers", Answer: Refused, With: "auth-url", Nginx: "adds the headers of this ConfigMap to the auth request",
		Istio: "the ext_authz provider's includeAdditionalHeadersInCheck", Difference: "see auth-url"},
	{Name: "auth-realm", Answer: Refused, With: "auth-type", Nginx: "names the realm of basic or digest authentication",
		Istio: "none", Difference: "see auth-type"},
	{Name: "auth-request-redirect", Answer: Refused, With: "auth-url", Nginx: "sets X-Auth-Request-Redirect on the auth request",
		Istio: "the ext_authz provider's includeRequestHeadersInCheck", Difference: "see auth-url"},
	{Name: "auth-response-headers", Answer: Refused, With: "auth-url", Nginx: "copies these headers of the auth service's answer to the backend request",
		Istio: "the ext_authz provider's headersToUpstreamOnAllow", Difference: "see auth-url"},
	{Name: "auth-secret", Answer: Refused, With: "auth-type", Nginx: "names the Secret with the users and passwords of basic or digest authentication",
		Istio: "see auth-type", Difference: "see auth-type"},
	{Name: "auth-secret-type", Answer: Refused, With: "auth-type", Nginx: "says whether auth-secret is an htpasswd file (auth-file) or a map of users (auth-map)",
		Istio: "see auth-type", Difference: "see auth-type"},
	{Name: "auth-signin", Answer: Refused, With: "auth-url", Nginx: "redirects clients the auth service refuses (401) to this sign-in page",
		Istio: "the ext_authz service answers with the redirect itself (oauth2-proxy does)", Difference: "see auth-url"},
	{Name: "auth-signin-redirect-param", Answer: Refused, With: "auth-url", Nginx: "names the query parameter of auth-signin that carries the original URL",
		Istio: "the ext_authz service builds its own redirect", Difference: "see auth-url"},
	{Name: "auth-snippet", Answer: Refused, Nginx: "inserts raw nginx configuration into the auth request's location (snippets were the injection path of CVE-2025-1974)",
		Difference: "whatever the snippet did (usually a header or a check on the auth request) would not be done",
		Istio:      "the ext_authz provider's settings in mesh config; Istio runs no raw proxy configuration from an Ingress"},
	{Name: "auth-tls-error-page", Answer: Refused, With: "auth-tls-secret", Nginx: "redirects clients whose certificate fails verification to this page",
		Istio: "see auth-tls-secret", Difference: "see auth-tls-secret"},
	{Name: "auth-tls-match-cn", Answer: Refused, With: "auth-tls-secret", Nginx: "admits only client certificates whose subject matches this CN regex",
		Istio: "a Gateway server's tls.subjectAltNames checks the client certificate's SAN (not its CN)", Difference: "see auth-tls-secret"},
	{Name: "auth-tls-pass-certificate-to-upstream", Answer: Refused, With: "auth-tls-secret", Nginx: "passes the client certificate to the backend in the ssl-client-cert header",
		Istio: "the gateway's X-Forwarded-Client-Cert header (gatewayTopology.forwardClientCertDetails)", Difference: "see auth-tls-secret"},
	{Name: "auth-tls-secret", Answer: Refused, Nginx: "requires client certificates signed by the CA in this Secret on the whole host",
		Difference: "the host would accept clients without a certificate",
		Istio:      "a Gateway server of its own for the host with tls.mode MUTUAL and the CA in the credential's ca.crt, written by hand; ingressguard generates SIMPLE servers only"},
	{Name: "auth-tls-verify-client", Answer: Refused, With: "auth-tls-secret", Nginx: "says whether client certificates are required (on), optional, or optional_no_ca",
		Istio: "tls.mode MUTUAL (required) or OPTIONAL_MUTUAL on the Gateway server", Difference: "see auth-tls-secret"},
	{Name: "auth-tls-verify-depth", Answer: Refused, With: "auth-tls-secret", Nginx: "limits the client certificate chain to this depth",
		Istio: "none: Envoy verifies the whole chain", Difference: "see auth-tls-secret"},
	{Name: "auth-type", Answer: Refused, Nginx: "requires HTTP basic or digest authentication against the users of auth-secret",
		Difference: "every request would reach the backend without a password: a private route becomes public",
		Istio:      "RequestAuthentication with an AuthorizationPolicy for JWT, or an ext_authz provider in mesh config with a CUSTOM AuthorizationPolicy on the ingress gateway; Istio has no password file"},
	{Name: "auth-url", Answer: Refused, Nginx: "sends each request first to the authentication service at this URL and lets it through only on a 2xx answer",
		Difference: "every request would reach the backend without authentication: a private route becomes public",
		Istio:      "declare the service as an envoyExtAuthzHttp extension provider in mesh config and select these hosts and paths with a CUSTOM AuthorizationPolicy on the ingress gateway (oauth2-proxy works this way)"},
	{Name: "backend-protocol", Answer: Translated, Nginx: "speaks HTTP, HTTPS, GRPC, GRPCS, AUTO_HTTP, FCGI or AJP to the backend",
		Istio:      "HTTPS and GRPCS: a DestinationRule with tls.mode SIMPLE; GRPC: the Service port's name or appProtocol",
		Difference: "the backend's certificate is not verified, as under nginx (proxy-ssl-verify off); FCGI and AJP are refused; GRPC is warned about unless the Service port already says grpc"},
	{Name: "canary", Answer: Translated, Nginx: "makes this Ingress the canary of the Ingress with the same host and path",
		Istio: "weighted destinations and header-matched routes in the primary Ingress's route", Difference: "none"},
	{Name: "canary-by-cookie", Answer: Translated, Nginx: "sends requests whose cookie of this name is always to the canary (never: never)",
		Istio: "a route before the primary's that matches the Cookie header by regex", Difference: "none"},
	{Name: "canary-by-header", Answer: Translated, Nginx: "sends requests whose header of this name is always to the canary (never: never)",
		Istio: "a route matching the header", Difference: "none"},
	{Name: "canary-by-header-pattern", Answer: Refused, Nginx: "sends requests whose canary-by-header header matches this PCRE regex to the canary",
		Istio: "canary-by-header-value with the exact value (a VirtualService header match by RE2 regex reads some PCRE differently)", Difference: "the requests meant for the canary would follow the weight rules"},
	{Name: "canary-by-header-value", Answer: Translated, Nginx: "sends requests whose canary-by-header header has this value to the canary",
		Istio: "a route matching the header's exact value", Difference: "none"},
	{Name: "canary-weight", Answer: Translated, Nginx: "sends this share of requests to the canary",
		Istio: "route destination weights", Difference: "none"},
	{Name: "canary-weight-total", Answer: Translated, Nginx: "is the total canary-weight is a share of (default 100)",
		Istio: "route destination weights (total - weight, weight)", Difference: "none"},
	{Name: "client-body-buffer-size", Answer: Ignored, Nginx: "buffers request bodies up to this size in memory",
		Difference: "Envoy streams request bodies", Istio: "none needed"},
	{Name: "configuration-snippet", Answer: Refused, Nginx: "inserts raw nginx configuration into the location (snippets were the injection path of CVE-2025-1974)",
		Difference: "whatever the snippet did (headers, access checks, rewrites) would not be done",
		Istio:      "VirtualService headers or rewrite for what they can do, an EnvoyFilter or WasmPlugin written by the mesh's admins for the rest; Istio runs no raw proxy configuration from an Ingress"},
	{Name: "connection-proxy-header", Answer: Ignored, Nginx: "sets the Connection header sent to the backend",
		Difference: "Envoy manages connections to the backend itself", Istio: "none"},
	{Name: "cors-allow-credentials", Answer: Translated, Nginx: "sets Access-Control-Allow-Credentials (default true)",
		Istio: "corsPolicy.allowCredentials", Difference: "off with any origin (*): Envoy echoes the origin where nginx answers *, so credentials would reach every site"},
	{Name: "cors-allow-headers", Answer: Translated, Nginx: "sets Access-Control-Allow-Headers",
		Istio: "corsPolicy.allowHeaders", Difference: "none"},
	{Name: "cors-allow-methods", Answer: Translated, Nginx: "sets Access-Control-Allow-Methods",
		Istio: "corsPolicy.allowMethods", Difference: "none"},
	{Name: "cors-allow-origin", Answer: Translated, Nginx: "sets the origins Access-Control-Allow-Origin admits (default *)",
		Istio: "corsPolicy.allowOrigins", Difference: "none"},
	{Name: "cors-expose-headers", Answer: Translated, Nginx: "sets Access-Control-Expose-Headers",
		Istio: "corsPolicy.exposeHeaders", Difference: "none"},
	{Name: "cors-max-age", Answer: Translated, Nginx: "sets Access-Control-Max-Age",
		Istio: "corsPolicy.maxAge", Difference: "none"},
	{Name: "custom-headers", Answer: Ignored, Nginx: "adds the headers of this ConfigMap to responses",
		Istio: "VirtualService headers.response.set", Difference: "responses lack these headers"},
	{Name: "custom-http-errors", Answer: Ignored, Nginx: "sends answers with these status codes to the default backend for an error page",
		Istio: "none per route (an EnvoyFilter with local reply config)", Difference: "clients get the backend's own error pages"},
	{Name: "default-backend", Answer: Ignored, Nginx: "answers with this Service when the backend has no endpoints (and for custom-http-errors)",
		Istio: "none", Difference: "Envoy answers 503 when the backend has no endpoints"},
	{Name: "denylist-source-range", Answer: Translated, Nginx: "answers 403 to clients inside these CIDRs",
		Istio:      "a DENY AuthorizationPolicy on the ingress gateway for these hosts and paths (remoteIpBlocks)",
		Difference: "the client address is right only if the gateway sees it (externalTrafficPolicy: Local, or numTrustedProxies behind a load balancer); refused, with no route served, on a wildcard or single-label host, a rule without host or a defaultBackend"},
	{Name: "disable-proxy-intercept-errors", Answer: Ignored, Nginx: "stops custom-http-errors from replacing this location's error answers",
		Istio: "none needed", Difference: "Envoy passes the backend's error answers through"},
	{Name: "enable-access-log", Answer: Ignored, Nginx: "turns this location's access log off (false)",
		Istio: "the Telemetry API's accessLogging, per workload not per route", Difference: "requests are logged as the mesh's settings say"},
	{Name: "enable-cors", Answer: Translated, Nginx: "answers CORS preflights and adds CORS headers",
		Istio: "VirtualService corsPolicy", Difference: "none"},
	{Name: "enable-global-auth", Answer: Ignored, Nginx: "turns the controller-wide global-auth-url off for this Ingress (false)",
		Istio: "a CUSTOM AuthorizationPolicy that leaves these hosts or paths out", Difference: "Istio has no global external auth to turn off"},
	{Name: "enable-modsecurity", Answer: Ignored, Nginx: "runs the ModSecurity WAF, which by default only logs (SecRuleEngine DetectionOnly)",
		Istio: "a WasmPlugin with a WAF such as Coraza", Difference: "requests are not inspected"},
	{Name: "enable-opentelemetry", Answer: Ignored, Nginx: "turns OpenTelemetry tracing on or off for this location",
		Istio: "the Telemetry API's tracing, per workload not per route", Difference: "requests are traced as the mesh's settings say"},
	{Name: "enable-owasp-core-rules", Answer: Ignored, With: "enable-modsecurity", Nginx: "loads the OWASP core rule set into ModSecurity",
		Istio: "a WasmPlugin with a WAF such as Coraza and the core rule set", Difference: "requests are not inspected"},
	{Name: "enable-rewrite-log", Answer: Ignored, Nginx: "logs rewrites at notice level",
		Istio: "none needed", Difference: "none for traffic"},
	{Name: "fastcgi-index", Answer: Ignored, Nginx: "names the FastCGI index file (with backend-protocol FCGI)",
		Istio: "none: Envoy does not speak FastCGI", Difference: "FastCGI backends cannot be reached"},
	{Name: "fastcgi-params-configmap", Answer: Ignored, Nginx: "passes the parameters of this ConfigMap to FastCGI backends",
		Istio: "none: Envoy does not speak FastCGI", Difference: "FastCGI backends cannot be reached"},
	{Name: "force-ssl-redirect", Answer: Translated, Nginx: "redirects plain HTTP to HTTPS even without a tls entry (TLS ends in front)",
		Istio: "a route before each path's own that redirects port 80 to https (308)", Difference: "none"},
	{Name: "from-to-www-redirect", Answer: Ignored, Nginx: "redirects www.host to host, or host to www.host",
		Istio: "a rule for the other name whose route redirects (VirtualService redirect.authority)", Difference: "the other name is not served"},
	{Name: "http2-push-preload", Answer: Ignored, Nginx: "turns preload Link headers into HTTP/2 server pushes",
		Istio: "none (browsers dropped server push)", Difference: "no pushes"},
	{Name: "limit-allowlist", Answer: Ignored, With: "limit-rps", Nginx: "exempts these CIDRs from the rate limits",
		Istio: "descriptors of the rate-limit service", Difference: "no client is rate-limited, so none needs exempting"},
	{Name: "limit-burst-multiplier", Answer: Ignored, With: "limit-rps", Nginx: "allows bursts of this multiple of limit-rps or limit-rpm",
		Istio: "the token bucket's max_tokens of Envoy's local rate limit", Difference: "no client is rate-limited"},
	{Name: "limit-connections", Answer: Ignored, Nginx: "limits concurrent connections per client address",
		Istio: "an EnvoyFilter with Envoy's connection limit filter, or a rate-limit service", Difference: "clients are not limited"},
	{Name: "limit-rate", Answer: Ignored, Nginx: "limits the response rate per connection (KB/s)",
		Istio: "an EnvoyFilter with Envoy's bandwidth limit filter", Difference: "responses are not slowed"},
	{Name: "limit-rate-after", Answer: Ignored, With: "limit-rate", Nginx: "starts limit-rate after this many kilobytes",
		Istio: "none", Difference: "responses are not slowed"},
	{Name: "limit-rpm", Answer: Ignored, Nginx: "limits requests per minute per client address (503 above)",
		Istio: "an EnvoyFilter with Envoy's local rate limit filter, or a rate-limit service", Difference: "clients are not limited"},
	{Name: "limit-rps", Answer: Ignored, Nginx: "limits requests per second per client address (503 above)",
		Istio: "an EnvoyFilter with Envoy's local rate limit filter, or a rate-limit service", Difference: "clients are not limited"},
	{Name: "limit-whitelist", Answer: Ignored, With: "limit-rps", AliasOf: "limit-allowlist", Nginx: "is the old name of limit-allowlist",
		Istio: "descriptors of the rate-limit service", Difference: "no client is rate-limited, so none needs exempting"},
	{Name: "load-balance", Answer: Translated, Nginx: "picks the balancing algorithm: round_robin or ewma",
		Istio: "DestinationRule trafficPolicy.loadBalancer.simple", Difference: "ewma has no exact equivalent; LEAST_REQUEST is the nearest"},
	{Name: "mirror-host", Answer: Ignored, With: "mirror-target", Nginx: "sets the Host header of mirrored requests",
		Istio: "the mirror destination's host", Difference: "requests are not mirrored"},
	{Name: "mirror-request-body", Answer: Ignored, With: "mirror-target", Nginx: "turns mirroring of the request body off (off)",
		Istio: "none: Envoy mirrors the body", Difference: "requests are not mirrored"},
	{Name: "mirror-target", Answer: Ignored, Nginx: "copies each request to this URL and ignores the answers",
		Istio: "VirtualService http[].mirrors", Difference: "requests are not mirrored"},
	{Name: "modsecurity-snippet", Answer: Refused, Nginx: "inserts raw ModSecurity rules, where SecRuleEngine On turns blocking on (snippets were the injection path of CVE-2025-1974)",
		Difference: "requests the rules blocked would reach the backend",
		Istio:      "a WasmPlugin with a WAF such as Coraza, written by the mesh's admins; Istio runs no raw proxy configuration from an Ingress"},
	{Name: "modsecurity-transaction-id", Answer: Ignored, With: "enable-modsecurity", Nginx: "sets ModSecurity's transaction id from an nginx variable",
		Istio: "none", Difference: "requests are not inspected"},
	{Name: "opentelemetry-operation-name", Answer: Ignored, With: "enable-opentelemetry", Nginx: "names the spans of this location",
		Istio: "the Telemetry API's tracing customTags", Difference: "spans are named as the mesh's settings say"},
	{Name: "opentelemetry-trust-incoming-span", Answer: Ignored, With: "enable-opentelemetry", Nginx: "continues traces that clients start",
		Istio: "the mesh's tracing settings", Difference: "traces are continued as the mesh's settings say"},
	{Name: "permanent-redirect", Answer: Translated, Nginx: "answers every request with a redirect to this URL (301)",
		Istio: "VirtualService redirect (scheme, authority, uri)", Difference: "none"},
	{Name: "permanent-redirect-code", Answer: Translated, Nginx: "sets permanent-redirect's status code",
		Istio: "VirtualService redirect.redirectCode", Difference: "none"},
	{Name: "preserve-trailing-slash", Answer: Ignored, Nginx: "keeps the trailing slash in the HTTPS redirect of ssl-redirect",
		Istio: "none needed", Difference: "Istio's httpsRedirect always keeps the path as sent"},
	{Name: "proxy-body-size", Answer: Ignored, Nginx: "limits the request body (ingress-nginx's default is 1m; larger bodies get 413)",
		Istio: "an EnvoyFilter with Envoy's buffer filter (max_request_bytes)", Difference: "Envoy sets no limit, so larger uploads reach the backend"},
	{Name: "proxy-buffer-size", Answer: Ignored, With: "proxy-buffering", Nginx: "sizes the buffer of the backend answer's headers",
		Istio: "none needed", Difference: "Envoy streams answers"},
	{Name: "proxy-buffering", Answer: Ignored, Nginx: "buffers backend answers (on) or streams them (off, the default)",
		Istio: "none needed", Difference: "Envoy streams answers"},
	{Name: "proxy-buffers-number", Answer: Ignored, With: "proxy-buffering", Nginx: "sets the number of answer buffers",
		Istio: "none needed", Difference: "Envoy streams answers"},
	{Name: "proxy-busy-buffers-size", Answer: Ignored, With: "proxy-buffering", Nginx: "sizes the buffers busy sending to the client",
		Istio: "none needed", Difference: "Envoy streams answers"},
	{Name: "proxy-connect-timeout", Answer: Translated, Nginx: "limits the time to connect to the backend (seconds)",
		Istio: "DestinationRule connectionPool.tcp.connectTimeout", Difference: "none"},
	{Name: "proxy-cookie-domain", Answer: Ignored, Nginx: "rewrites the Domain of the backend's Set-Cookie headers",
		Istio: "an EnvoyFilter with a Lua filter", Difference: "cookies keep the backend's Domain"},
	{Name: "proxy-cookie-path", Answer: Ignored, Nginx: "rewrites the Path of the backend's Set-Cookie headers",
		Istio: "an EnvoyFilter with a Lua filter", Difference: "cookies keep the backend's Path"},
	{Name: "proxy-http-version", Answer: Ignored, Nginx: "speaks HTTP/1.0 or 1.1 to the backend",
		Istio: "the Service port's protocol and DestinationRule h2UpgradePolicy", Difference: "Envoy speaks HTTP/1.1 unless the port says otherwise"},
	{Name: "proxy-max-temp-file-size", Answer: Ignored, With: "proxy-buffering", Nginx: "limits the temporary file of buffered answers",
		Istio: "none needed", Difference: "Envoy streams answers"},
	{Name: "proxy-next-upstream", Answer: Ignored, Nginx: "retries another endpoint on these errors (default: error and timeout)",
		Istio: "VirtualService http[].retries.retryOn", Difference: "Istio's default retries (2, on connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes) apply"},
	{Name: "proxy-next-upstream-timeout", Answer: Ignored, With: "proxy-next-upstream", Nginx: "limits the time spent retrying",
		Istio: "VirtualService http[].retries.perTryTimeout and the route timeout", Difference: "Istio's default retries apply"},
	{Name: "proxy-next-upstream-tries", Answer: Ignored, With: "proxy-next-upstream", Nginx: "limits the number of tries",
		Istio: "VirtualService http[].retries.attempts", Difference: "Istio's default retries apply"},
	{Name: "proxy-read-timeout", Answer: Translated, Nginx: "limits the time between two reads of the backend's answer (seconds)",
		Istio: "the route's timeout (the larger of read and send)", Difference: "Envoy's route timeout is the whole answer's, not between reads: a long download or stream may be cut"},
	{Name: "proxy-redirect-from", Answer: Ignored, Nginx: "rewrites this prefix of the backend's Location headers into proxy-redirect-to",
		Istio: "an EnvoyFilter with a Lua filter", Difference: "redirects keep the backend's Location"},
	{Name: "proxy-redirect-to", Answer: Ignored, With: "proxy-redirect-from", Nginx: "is what proxy-redirect-from becomes",
		Istio: "an EnvoyFilter with a Lua filter", Difference: "redirects keep the backend's Location"},
	{Name: "proxy-request-buffering", Answer: Ignored, Nginx: "buffers whole request bodies before sending them on (on, the default)",
		Istio: "none needed", Difference: "Envoy streams request bodies"},
	{Name: "proxy-send-timeout", Answer: Translated, Nginx: "limits the time between two writes of the request to the backend (seconds)",
		Istio: "the route's timeout (the larger of read and send)", Difference: "Envoy's route timeout is the whole exchange's, not between writes"},
	{Name: "proxy-ssl-ciphers", Answer: Ignored, With: "proxy-ssl-secret", Nginx: "sets the ciphers for HTTPS to the backend",
		Istio: "none per destination", Difference: "Envoy's default ciphers apply"},
	{Name: "proxy-ssl-name", Answer: Ignored, With: "proxy-ssl-secret", Nginx: "sets the name the backend's certificate is checked against and sent as SNI",
		Istio: "DestinationRule tls.sni and tls.subjectAltNames", Difference: "the backend's certificate is not checked against this name"},
	{Name: "proxy-ssl-protocols", Answer: Ignored, With: "proxy-ssl-secret", Nginx: "sets the TLS versions for HTTPS to the backend",
		Istio: "none per destination", Difference: "Envoy's default versions apply"},
	{Name: "proxy-ssl-secret", Answer: Ignored, Nginx: "presents this Secret's client certificate to HTTPS backends and checks theirs against its ca.crt",
		Istio: "DestinationRule tls.mode MUTUAL with credentialName", Difference: "the backend gets no client certificate and its own is not checked"},
	{Name: "proxy-ssl-server-name", Answer: Ignored, With: "proxy-ssl-secret", Nginx: "sends SNI to HTTPS backends (on)",
		Istio: "DestinationRule tls.sni", Difference: "SNI is sent as the DestinationRule says"},
	{Name: "proxy-ssl-verify", Answer: Ignored, With: "proxy-ssl-secret", Nginx: "checks the HTTPS backend's certificate (on)",
		Istio: "DestinationRule tls.caCertificates or credentialName", Difference: "the backend's certificate is not checked"},
	{Name: "proxy-ssl-verify-depth", Answer: Ignored, With: "proxy-ssl-secret", Nginx: "limits the backend's certificate chain to this depth",
		Istio: "none", Difference: "the backend's certificate is not checked"},
	{Name: "relative-redirects", Answer: Ignored, Nginx: "makes the redirects nginx itself sends relative",
		Istio: "none needed", Difference: "Istio's redirects are absolute"},
	{Name: "rewrite-target", Answer: Translated, Nginx: "replaces the matched path before the request reaches the backend",
		Istio: "VirtualService rewrite.uriRegexRewrite of the whole path", Difference: "paths keep their Kubernetes meaning (nginx made them case-insensitive regex prefixes); capture groups ($1) and variables are refused"},
	{Name: "satisfy", Answer: Ignored, Nginx: "admits requests that pass any (instead of all) of the access checks",
		Istio: "AuthorizationPolicies: ALLOW policies admit on any rule, DENY and CUSTOM apply to all", Difference: "each translated access check applies on its own, which is stricter, never looser"},
	{Name: "server-alias", Answer: Ignored, Nginx: "serves these extra host names like the rule's host",
		Istio: "a rule per name", Difference: "the extra names are not served"},
	{Name: "server-snippet", Answer: Refused, Nginx: "inserts raw nginx configuration into the server block of the host (snippets were the injection path of CVE-2025-1974)",
		Difference: "whatever the snippet did (headers, access checks, redirects) would not be done",
		Istio:      "VirtualService routes for what they can do, an EnvoyFilter written by the mesh's admins for the rest; Istio runs no raw proxy configuration from an Ingress"},
	{Name: "service-upstream", Answer: Ignored, Nginx: "sends requests to the Service's cluster IP instead of its endpoints",
		Istio: "none needed", Difference: "Envoy balances over the endpoints and drains them on deploys"},
	{Name: "session-cookie-change-on-failure", Answer: Ignored, With: "affinity", Nginx: "picks a new endpoint and cookie when the request fails",
		Istio: "none", Difference: "the cookie keeps pointing at the failed endpoint's hash"},
	{Name: "session-cookie-conditional-samesite-none", Answer: Ignored, With: "affinity", Nginx: "leaves SameSite=None out for browsers known to mishandle it",
		Istio: "none", Difference: "the affinity cookie has no SameSite attribute"},
	{Name: "session-cookie-domain", Answer: Ignored, With: "affinity", Nginx: "sets the Domain of the affinity cookie",
		Istio: "none", Difference: "the affinity cookie has no Domain attribute"},
	{Name: "session-cookie-expires", Answer: Translated, Nginx: "sets the Expires of the affinity cookie (seconds)",
		Istio: "httpCookie.ttl", Difference: "Envoy sets Max-Age from ttl"},
	{Name: "session-cookie-max-age", Answer: Translated, Nginx: "sets the Max-Age of the affinity cookie (seconds)",
		Istio: "httpCookie.ttl", Difference: "none"},
	{Name: "session-cookie-name", Answer: Translated, Nginx: "names the affinity cookie (default INGRESSCOOKIE)",
		Istio: "httpCookie.name", Difference: "none"},
	{Name: "session-cookie-path", Answer: Translated, Nginx: "sets the Path of the affinity cookie",
		Istio: "httpCookie.path", Difference: "none"},
	{Name: "session-cookie-samesite", Answer: Ignored, With: "affinity", Nginx: "sets the SameSite of the affinity cookie",
		Istio: "none", Difference: "the affinity cookie has no SameSite attribute"},
	{Name: "session-cookie-secure", Answer: Ignored, With: "affinity", Nginx: "marks the affinity cookie Secure",
		Istio: "none", Difference: "the affinity cookie is not marked Secure"},
	{Name: "ssl-ciphers", Answer: Ignored, Nginx: "sets the TLS ciphers clients may use for this host",
		Istio: "the Gateway server's tls.cipherSuites", Difference: "Istio's default ciphers apply"},
	{Name: "ssl-passthrough", Answer: Translated, Nginx: "passes TLS through to the backend without ending it (SNI routing)",
		Istio: "a PASSTHROUGH Gateway server and a VirtualService tls route by SNI", Difference: "paths do not apply, as under nginx"},
	{Name: "ssl-prefer-server-ciphers", Answer: Ignored, With: "ssl-ciphers", Nginx: "prefers the server's cipher order",
		Istio: "none", Difference: "Envoy's default applies"},
	{Name: "ssl-redirect", Answer: Translated, Nginx: "redirects plain HTTP to HTTPS for a host with a tls entry (default true)",
		Istio: "a route before each path's own that redirects port 80 to https (308)", Difference: "applies only when the host has a certificate, as in nginx; nginx redirects such hosts by default, Istio only with this annotation"},
	{Name: "stream-snippet", Answer: Refused, Nginx: "inserts raw nginx stream (TCP/UDP) configuration (snippets were the injection path of CVE-2025-1974)",
		Difference: "the TCP or UDP servers the snippet defined would not exist",
		Istio:      "a Gateway server with a TCP port and a VirtualService tcp route, written by hand; Istio runs no raw proxy configuration from an Ingress"},
	{Name: "temporal-redirect", Answer: Translated, Nginx: "answers every request with a redirect to this URL (302)",
		Istio: "VirtualService redirect (scheme, authority, uri)", Difference: "none"},
	{Name: "temporal-redirect-code", Answer: Translated, Nginx: "sets temporal-redirect's status code",
		Istio: "VirtualService redirect.redirectCode", Difference: "none"},
	{Name: "upstream-hash-by", Answer: Ignored, Nginx: "balances by a consistent hash of this nginx variable",
		Istio: "DestinationRule consistentHash (httpHeaderName, httpQueryParameterName or useSourceIp)", Difference: "requests are balanced without the hash"},
	{Name: "upstream-hash-by-subset", Answer: Ignored, With: "upstream-hash-by", Nginx: "hashes to a group of endpoints instead of one",
		Istio: "none", Difference: "requests are balanced without the hash"},
	{Name: "upstream-hash-by-subset-size", Answer: Ignored, With: "upstream-hash-by", Nginx: "sets the size of upstream-hash-by-subset's groups",
		Istio: "none", Difference: "requests are balanced without the hash"},
	{Name: "upstream-vhost", Answer: Translated, Nginx: "sets the Host header sent to the backend",
		Istio: "VirtualService rewrite.authority", Difference: "none"},
	{Name: "use-port-in-redirects", Answer: Ignored, Nginx: "puts the port into the redirects nginx itself sends",
		Istio: "none", Difference: "Istio's redirects keep the request's authority"},
	{Name: "use-regex", Answer: Ignored, Nginx: "matches this Ingress's paths as case-insensitive regex prefixes",
		Istio:      "none: Istio matches paths exactly or by prefix, and regex paths are refused",
		Difference: "plain paths keep their pathType's meaning, case-sensitive: under nginx /api also matched /apis and /API"},
	{Name: "whitelist-source-range", Answer: Translated, AliasOf: "allowlist-source-range", Nginx: "is the old name of allowlist-source-range",
		Istio:      "an AuthorizationPolicy on the ingress gateway that denies other addresses for these hosts and paths (remoteIpBlocks)",
		Difference: "the client address is right only if the gateway sees it (externalTrafficPolicy: Local, or numTrustedProxies behind a load balancer); refused, with no route served, on a wildcard or single-label host, a rule without host or a defaultBackend"},
	{Name: "x-forwarded-prefix", Answer: Translated, Nginx: "sends the X-Forwarded-Prefix header with this value",
		Istio: "VirtualService headers.request.set, on the routes rewrite-target rewrites", Difference: "ignored with a warning without rewrite-target, as under nginx"},
}
