package istio

import (
	"strings"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// This file asks Istio's control plane (gateway_test.go) what requests get
// from the objects convert generates, and compares that with what the
// Kubernetes Ingress specification says they get (with Istio's documented
// legacy meaning of "/*" and ".*", SPEC section 2). Every expectation
// below is written from the Ingress rules, not from what convert does.

// notFound is the expected backend of a request that no rule and no
// defaultBackend serves: a 404 over http; over https, a 404 or no TLS
// server at all, which a client cannot tell apart from "not served".
const notFound = "404"

// row is one request and what the Kubernetes rules say it gets.
type row struct {
	req     string // "https://www.example.com/app": scheme, Host (and SNI), path
	backend string // "service.namespace:port", or notFound
	secret  string // https, when a backend is reached: the Secret whose certificate is presented
}

// routingCase is a set of Ingresses (oldest first), the Services that
// are not just a backend's port number, and requests. Each numbered
// backend gets a Service with that port; each tls secretName exists in
// istio-system.
type routingCase struct {
	name string
	why  string // the Kubernetes rule the case is about
	ings []*networkingv1.Ingress
	svcs []*corev1.Service
	rows []row
}

func spec(rules ...networkingv1.IngressRule) networkingv1.IngressSpec {
	return networkingv1.IngressSpec{Rules: rules}
}

func withTLS(s networkingv1.IngressSpec, t ...networkingv1.IngressTLS) networkingv1.IngressSpec {
	s.TLS = append(s.TLS, t...)
	return s
}

func withDefault(s networkingv1.IngressSpec, b networkingv1.IngressBackend) networkingv1.IngressSpec {
	s.DefaultBackend = &b
	return s
}

var routingCases = []routingCase{
	{
		name: "wildcard host serves exactly one label",
		why:  "a wildcard host *.example.com matches a.example.com, not a.b.example.com nor example.com; its tls entry covers the same hosts",
		ings: []*networkingv1.Ingress{
			ingress("web", "tenants", 0, withTLS(spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			), tls("wildcard-tls", "*.example.com"))),
		},
		rows: []row{
			{"http://a.example.com/", "tenant.web:80", ""},
			{"http://a.example.com/x/y", "tenant.web:80", ""},
			{"http://a.b.example.com/", notFound, ""},
			{"http://example.com/", notFound, ""},
			{"https://a.example.com/", "tenant.web:80", "wildcard-tls"},
			{"https://a.b.example.com/", notFound, ""},
			{"https://example.com/", notFound, ""},
		},
	},
	{
		name: "exact host beats wildcard in one Ingress",
		why:  "the host is chosen first: www.example.com has its own rule, so only that rule's paths apply to it, and a path it lacks is a 404 even though *.example.com has Prefix /",
		ings: []*networkingv1.Ingress{
			ingress("web", "hosts", 0, spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
				rule("www.example.com", path("/app", prefix, backend("www", 80))),
			)),
		},
		rows: []row{
			{"http://www.example.com/app", "www.web:80", ""},
			{"http://www.example.com/other", notFound, ""},
			{"http://a.example.com/app", "tenant.web:80", ""},
			{"http://a.example.com/other", "tenant.web:80", ""},
		},
	},
	{
		name: "exact host beats wildcard across namespaces, wildcard older",
		why:  "the exact host's rules alone apply to it, over http and over https, whichever Ingress and namespace the wildcard comes from; each host gets its own tls entry's certificate",
		ings: []*networkingv1.Ingress{
			ingress("tenants", "wild", 0, withTLS(spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			), tls("wildcard-tls", "*.example.com"))),
			ingress("www", "site", 1, withTLS(spec(
				rule("www.example.com", path("/app", prefix, backend("site", 80))),
			), tls("www-tls", "www.example.com"))),
		},
		rows: []row{
			{"http://www.example.com/app", "site.www:80", ""},
			{"http://www.example.com/other", notFound, ""},
			{"https://www.example.com/app", "site.www:80", "www-tls"},
			{"https://www.example.com/other", notFound, ""},
			{"http://a.example.com/other", "tenant.tenants:80", ""},
			{"https://a.example.com/other", "tenant.tenants:80", "wildcard-tls"},
		},
	},
	{
		name: "exact host beats wildcard across namespaces, exact older",
		why:  "as above with the ages swapped: which Ingress is older does not decide between hosts",
		ings: []*networkingv1.Ingress{
			ingress("www", "site", 0, withTLS(spec(
				rule("www.example.com", path("/app", prefix, backend("site", 80))),
			), tls("www-tls", "www.example.com"))),
			ingress("tenants", "wild", 1, withTLS(spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			), tls("wildcard-tls", "*.example.com"))),
		},
		rows: []row{
			{"http://www.example.com/app", "site.www:80", ""},
			{"http://www.example.com/other", notFound, ""},
			{"https://www.example.com/app", "site.www:80", "www-tls"},
			{"https://www.example.com/other", notFound, ""},
			{"http://a.example.com/other", "tenant.tenants:80", ""},
			{"https://a.example.com/other", "tenant.tenants:80", "wildcard-tls"},
		},
	},
	{
		name: "exact host beats wildcard with defaultBackends",
		why:  "a path the exact host's rules lack goes to the defaultBackend of the Ingress with that host's rule, not to the wildcard's rules; a host no rule covers goes to the oldest Ingress's defaultBackend",
		ings: []*networkingv1.Ingress{
			ingress("tenants", "wild", 0, withDefault(spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			), backend("tenant-default", 80))),
			ingress("www", "site", 1, withDefault(spec(
				rule("www.example.com", path("/app", prefix, backend("site", 80))),
			), backend("site-default", 80))),
		},
		rows: []row{
			{"http://www.example.com/app", "site.www:80", ""},
			{"http://www.example.com/other", "site-default.www:80", ""},
			{"http://a.example.com/other", "tenant.tenants:80", ""},
			{"http://other.test/", "tenant-default.tenants:80", ""},
			{"http://a.b.example.com/", "tenant-default.tenants:80", ""},
		},
	},
	{
		name: "exact host beats wildcard when another Ingress holds the wildcard certificate",
		why:  "www.example.com has no tls entry of its own, so https uses the *.example.com certificate, and reaches www.example.com's rules, not the wildcard's",
		ings: []*networkingv1.Ingress{
			ingress("tenants", "wild", 0, withTLS(spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			), tls("wildcard-tls", "*.example.com"))),
			ingress("www", "site", 1, spec(
				rule("www.example.com", path("/app", prefix, backend("site", 80))),
			)),
		},
		rows: []row{
			{"https://www.example.com/app", "site.www:80", "wildcard-tls"},
			{"https://www.example.com/other", notFound, ""},
			{"http://www.example.com/other", notFound, ""},
			{"https://a.example.com/app", "tenant.tenants:80", "wildcard-tls"},
		},
	},
	{
		name: "single-label host",
		why:  "host: myapp is a valid Ingress host; a request with Host myapp gets its rules, and no other host does",
		ings: []*networkingv1.Ingress{
			ingress("web", "short", 0, spec(
				rule("myapp", path("/", prefix, backend("myapp", 80))),
			)),
		},
		rows: []row{
			{"http://myapp/", "myapp.web:80", ""},
			{"http://myapp/x", "myapp.web:80", ""},
			{"http://other/", notFound, ""},
			{"http://myapp.example.com/", notFound, ""},
		},
	},
	{
		name: "defaultBackend",
		why:  "a defaultBackend serves what no path of its Ingress's hosts matches; a host no rule names gets the oldest Ingress's defaultBackend",
		ings: []*networkingv1.Ingress{
			ingress("web", "older", 0, withDefault(spec(
				rule("bar.example.com", path("/app", prefix, backend("bar", 80))),
			), backend("older-default", 80))),
			ingress("shop", "newer", 1, withDefault(spec(
				rule("foo.example.com", path("/app", prefix, backend("foo", 80))),
			), backend("newer-default", 80))),
		},
		rows: []row{
			{"http://foo.example.com/app", "foo.shop:80", ""},
			{"http://foo.example.com/other", "newer-default.shop:80", ""},
			{"http://bar.example.com/app", "bar.web:80", ""},
			{"http://bar.example.com/other", "older-default.web:80", ""},
			{"http://unknown.example.org/", "older-default.web:80", ""},
			{"http://unknown.example.org/app", "older-default.web:80", ""},
		},
	},
	{
		name: "TLS on a shared host, held by the older Ingress",
		why:  "a tls entry covers its host whichever Ingress routes the path: https reaches both namespaces' paths with the one certificate",
		ings: []*networkingv1.Ingress{
			ingress("a", "shop-a", 0, withTLS(spec(
				rule("shop.example.com", path("/a", prefix, backend("a", 80))),
			), tls("shop-tls", "shop.example.com"))),
			ingress("b", "shop-b", 1, spec(
				rule("shop.example.com", path("/b", prefix, backend("b", 80))),
			)),
		},
		rows: []row{
			{"https://shop.example.com/a", "a.a:80", "shop-tls"},
			{"https://shop.example.com/b", "b.b:80", "shop-tls"},
			{"http://shop.example.com/a", "a.a:80", ""},
			{"http://shop.example.com/b", "b.b:80", ""},
		},
	},
	{
		name: "TLS on a shared host, held by the newer Ingress",
		why:  "as above with the tls entry on the newer Ingress (Istio's own conversion loses https here, istio/istio#24385)",
		ings: []*networkingv1.Ingress{
			ingress("a", "shop-a", 0, spec(
				rule("shop.example.com", path("/a", prefix, backend("a", 80))),
			)),
			ingress("b", "shop-b", 1, withTLS(spec(
				rule("shop.example.com", path("/b", prefix, backend("b", 80))),
			), tls("shop-tls", "shop.example.com"))),
		},
		rows: []row{
			{"https://shop.example.com/a", "a.a:80", "shop-tls"},
			{"https://shop.example.com/b", "b.b:80", "shop-tls"},
			{"http://shop.example.com/a", "a.a:80", ""},
		},
	},
	{
		name: "Exact beats Prefix on the same path",
		why:  "among matching paths the longest wins (a trailing / does not count) and Exact beats Prefix at equal length",
		ings: []*networkingv1.Ingress{
			ingress("web", "paths", 0, spec(
				rule("paths.example.com",
					path("/foo", prefix, backend("prefix", 80)),
					path("/foo", exact, backend("exact", 80)),
					path("/sub/path/", prefix, backend("sub-prefix", 80)),
					path("/sub/path", exact, backend("sub-exact", 80)),
				),
			)),
		},
		rows: []row{
			{"http://paths.example.com/foo", "exact.web:80", ""},
			{"http://paths.example.com/foo/", "prefix.web:80", ""},
			{"http://paths.example.com/foo/bar", "prefix.web:80", ""},
			{"http://paths.example.com/sub/path", "sub-exact.web:80", ""},
			{"http://paths.example.com/sub/path/", "sub-prefix.web:80", ""},
			{"http://paths.example.com/sub/path/x", "sub-prefix.web:80", ""},
		},
	},
	{
		name: "ImplementationSpecific /* and .*",
		why:  "Istio's documented legacy forms: /api/* and /static.* mean Prefix /api and /static, /* means everything, any other path means Exact; a missing pathType means the same",
		ings: []*networkingv1.Ingress{
			ingress("web", "legacy", 0, spec(
				rule("legacy.example.com",
					path("/api/*", implSpec, backend("api", 80)),
					path("/static.*", implSpec, backend("static", 80)),
					path("/old/*", nil, backend("old", 80)),
					path("/exact", implSpec, backend("exact", 80)),
					path("/*", implSpec, backend("root", 80)),
				),
			)),
		},
		rows: []row{
			{"http://legacy.example.com/api", "api.web:80", ""},
			{"http://legacy.example.com/api/v1", "api.web:80", ""},
			{"http://legacy.example.com/apix", "root.web:80", ""},
			{"http://legacy.example.com/static", "static.web:80", ""},
			{"http://legacy.example.com/static/app.js", "static.web:80", ""},
			{"http://legacy.example.com/staticx", "root.web:80", ""},
			{"http://legacy.example.com/old/x", "old.web:80", ""},
			{"http://legacy.example.com/exact", "exact.web:80", ""},
			{"http://legacy.example.com/exact/x", "root.web:80", ""},
			{"http://legacy.example.com/", "root.web:80", ""},
		},
	},
	{
		name: "Prefix matches element-wise",
		why:  "Prefix /foo (or /foo/) matches /foo, /foo/ and /foo/bar, not /foobar",
		ings: []*networkingv1.Ingress{
			ingress("web", "prefix", 0, spec(
				rule("prefix.example.com", path("/foo", prefix, backend("foo", 80))),
				rule("slash.example.com", path("/foo/", prefix, backend("foo-slash", 80))),
			)),
		},
		rows: []row{
			{"http://prefix.example.com/foo", "foo.web:80", ""},
			{"http://prefix.example.com/foo/", "foo.web:80", ""},
			{"http://prefix.example.com/foo/bar", "foo.web:80", ""},
			{"http://prefix.example.com/foobar", notFound, ""},
			{"http://prefix.example.com/", notFound, ""},
			{"http://slash.example.com/foo", "foo-slash.web:80", ""},
			{"http://slash.example.com/foo/bar", "foo-slash.web:80", ""},
			{"http://slash.example.com/foobar", notFound, ""},
		},
	},
	{
		name: "named ports resolved through the Service",
		why:  "a backend's port.name is the Service's port of that name, whose number the request reaches",
		ings: []*networkingv1.Ingress{
			ingress("web", "named", 0, withDefault(spec(
				rule("named.example.com",
					path("/", prefix, namedBackend("api", "http")),
					path("/metrics", prefix, namedBackend("api", "metrics")),
				),
			), namedBackend("api", "http"))),
		},
		svcs: []*corev1.Service{
			service("web", "api", corev1.ServicePort{Name: "http", Port: 8080}, corev1.ServicePort{Name: "metrics", Port: 9090}),
		},
		rows: []row{
			{"http://named.example.com/", "api.web:8080", ""},
			{"http://named.example.com/metrics", "api.web:9090", ""},
			{"http://unknown.example.org/", "api.web:8080", ""},
		},
	},
	{
		name: "two labels below a wildcard, with host-less rules",
		why:  "x.c.example.com is not covered by *.example.com (one label only), so the rules without host apply to it",
		ings: []*networkingv1.Ingress{
			ingress("web", "mixed", 0, spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
				rule("", path("/", prefix, backend("fallback", 80))),
			)),
			ingress("other", "catchall", 1, spec(
				rule("", path("/other", prefix, backend("other", 80))),
			)),
		},
		rows: []row{
			{"http://a.example.com/", "tenant.web:80", ""},
			{"http://x.c.example.com/", "fallback.web:80", ""},
			{"http://x.c.example.com/other", "other.other:80", ""},
			{"http://example.com/", "fallback.web:80", ""},
			{"http://other.test/other", "other.other:80", ""},
		},
	},
	{
		name: "two labels below a wildcard, host-less rules in another Ingress",
		why:  "x.c.example.com is not covered by *.example.com, so the rules without host apply to it, whichever Ingress holds them",
		ings: []*networkingv1.Ingress{
			ingress("tenants", "wild", 0, spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			)),
			ingress("web", "catchall", 1, spec(
				rule("", path("/", prefix, backend("fallback", 80))),
			)),
		},
		rows: []row{
			{"http://a.example.com/", "tenant.tenants:80", ""},
			{"http://x.c.example.com/", "fallback.web:80", ""},
			{"http://example.com/", "fallback.web:80", ""},
		},
	},
	{
		name: "https for a host whose certificate is another Ingress's wildcard",
		why:  "www.example.com's rule is in Ingress a, without tls; Ingress b's tls *.example.com covers www.example.com, so https gets b's certificate and a's backend",
		ings: []*networkingv1.Ingress{
			ingress("a", "www", 0, spec(
				rule("www.example.com", path("/", prefix, backend("www", 80))),
			)),
			ingress("b", "wild", 1, withTLS(spec(
				rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			), tls("wildcard-tls", "*.example.com"))),
		},
		rows: []row{
			{"https://www.example.com/", "www.a:80", "wildcard-tls"},
			{"http://www.example.com/", "www.a:80", ""},
			{"https://a.example.com/", "tenant.b:80", "wildcard-tls"},
		},
	},
	{
		name: "single-label hosts beside rules without host and a defaultBackend",
		why:  "a single-label host gets its own rules, then its Ingress's defaultBackend; only other hosts get the rules without host",
		ings: []*networkingv1.Ingress{
			ingress("web", "short", 0, withDefault(spec(
				rule("myapp", path("/app", prefix, backend("myapp", 80))),
			), backend("short-default", 80))),
			ingress("ops", "health", 1, spec(
				rule("", path("/healthz", exact, backend("health", 80))),
				rule("other", path("/", prefix, backend("other", 80))),
			)),
		},
		rows: []row{
			{"http://myapp/app", "myapp.web:80", ""},
			{"http://myapp/healthz", "short-default.web:80", ""},
			{"http://other/healthz", "other.ops:80", ""},
			{"http://www.example.com/healthz", "health.ops:80", ""},
			{"http://www.example.com/x", "short-default.web:80", ""},
		},
	},
	{
		name: "nested wildcards, a host only a tls entry names, and a certificate without hosts",
		why:  "each name gets the most specific rule host that covers it with one label, else the rules without host; https presents the most specific tls entry that covers the name",
		ings: []*networkingv1.Ingress{
			ingress("a", "wide", 0, withTLS(spec(
				rule("*.example.com", path("/", prefix, backend("wide", 80))),
				rule("", path("/", prefix, backend("any", 80))),
			), tls("any-tls"), tls("wide-tls", "*.example.com"))),
			ingress("b", "narrow", 1, withTLS(spec(
				rule("*.b.example.com", path("/", prefix, backend("narrow", 80))),
			), tls("shop-tls", "shop.example.com"))),
		},
		rows: []row{
			{"http://x.example.com/", "wide.a:80", ""},
			{"http://x.b.example.com/", "narrow.b:80", ""},
			{"http://y.x.b.example.com/", "any.a:80", ""},
			{"http://b.example.com/", "wide.a:80", ""},
			{"https://x.example.com/", "wide.a:80", "wide-tls"},
			{"https://shop.example.com/", "wide.a:80", "shop-tls"},
			{"https://x.b.example.com/", "narrow.b:80", "any-tls"},
			{"https://other.test/", "any.a:80", "any-tls"},
		},
	},
}

// tlsSecrets is every tls secretName of ings: the Secrets a case puts in
// istio-system.
func tlsSecrets(ings []*networkingv1.Ingress) []string {
	var out []string
	for _, ing := range ings {
		for _, t := range ing.Spec.TLS {
			out = append(out, t.SecretName)
		}
	}
	return out
}

// check reports whether got is what r wants.
func (r row) check(req request, got outcome) bool {
	switch {
	case got.problem != "" || got.redirect != "" || got.weights != nil:
		return false
	case r.backend == notFound:
		return got.backend == ""
	case req.scheme == "https":
		return got.backend == r.backend && got.secret == r.secret
	}
	return got.backend == r.backend
}

func (r row) want(req request) string {
	if r.backend == notFound {
		return "404 (or not served)"
	}
	if req.scheme == "https" {
		return r.backend + ", certificate of Secret " + r.secret
	}
	return r.backend
}

// TestRouting loads each case's generated objects into Istio's control
// plane, created in each of two orders, and checks every request of the
// case against the Kubernetes rules.
func TestRouting(t *testing.T) {
	for _, c := range routingCases {
		t.Run(c.name, func(t *testing.T) {
			for _, order := range []creation{sameSecond, reverseNames} {
				t.Run(order.String(), func(t *testing.T) {
					g := startGateway(t, world{ings: c.ings, svcs: withServices(c.ings, c.svcs), secrets: tlsSecrets(c.ings)}, order)
					for _, r := range c.rows {
						req, err := parseRequest(r.req)
						if err != nil {
							t.Fatal(err)
						}
						if (req.scheme == "https" && r.backend != notFound) != (r.secret != "") {
							t.Fatalf("%s: an https row that reaches a backend names a secret, and only it", r.req)
						}
						t.Run(r.req, func(t *testing.T) {
							got := g.serve(t, req)
							if !r.check(req, got) {
								t.Errorf("GET %s (objects %s)\n  Kubernetes: %s\n  Istio:      %s\n  matched:    %s\n  rule:       %s",
									req, order, r.want(req), got, strings.Join(got.how, ", "), c.why)
							}
						})
					}
				})
			}
		})
	}
}

// TestNginxObjectsRouting asks Istio's control plane what the objects of
// other kinds than Gateway and VirtualService do: ssl-passthrough hands a
// TLS connection by SNI, unopened, to the backend of path / (and plain
// HTTP keeps every path); backend-protocol HTTPS gives the gateway's
// cluster of that Service port a TLS transport socket, and the mesh's
// sidecars none (the DestinationRule is exported to the gateway's
// namespace only); load-balance and affinity set the cluster's load
// balancer.
func TestNginxObjectsRouting(t *testing.T) {
	passthrough := ingress("sec", "vault", 0, spec(rule("vault.example.com",
		path("/", prefix, backend("vault", 8200)),
		path("/ui", prefix, backend("vault-ui", 8000)),
	)))
	passthrough.Annotations[convert.NginxPrefix+"ssl-passthrough"] = "true"
	terminated := ingress("shop", "web", 1, withTLS(spec(rule("web.example.com", path("/", prefix, backend("web", 80)))), tls("web-tls", "web.example.com")))
	secure := ingress("apps", "secure", 2, spec(rule("secure.example.com", path("/", prefix, backend("tls-app", 8443)))))
	secure.Annotations[convert.NginxPrefix+"backend-protocol"] = "HTTPS"
	ewma := ingress("apps", "search", 3, spec(rule("search.example.com", path("/", prefix, backend("search", 80)))))
	ewma.Annotations[convert.NginxPrefix+"load-balance"] = "ewma"
	sticky := ingress("apps", "cart", 4, spec(rule("cart.example.com", path("/", prefix, backend("cart", 80)))))
	sticky.Annotations[convert.NginxPrefix+"affinity"] = "cookie"
	sticky.Annotations[convert.NginxPrefix+"session-cookie-name"] = "route"
	plain := ingress("apps", "plain", 5, spec(rule("plain.example.com", path("/", prefix, backend("plain", 80)))))
	ings := []*networkingv1.Ingress{passthrough, terminated, secure, ewma, sticky, plain}
	g := startGateway(t, world{ings: ings, svcs: withServices(ings, nil), secrets: tlsSecrets(ings)}, sameSecond)

	t.Run("ssl-passthrough", func(t *testing.T) {
		res := g.sim.Run(simulation.Call{Port: 443, Protocol: simulation.TCP, TLS: simulation.TLS, Sni: "vault.example.com", CallMode: simulation.CallModeGateway})
		if want := "outbound|8200||vault.sec.svc.cluster.local"; res.Error != nil || res.ClusterMatched != want {
			t.Errorf("TLS to SNI vault.example.com: cluster %q (error %v), want %q, passed through", res.ClusterMatched, res.Error, want)
		}
		for req, want := range map[string]string{
			"http://vault.example.com/ui": "vault-ui.sec:8000",
			"https://web.example.com/":    "web.shop:80, certificate of Secret web-tls",
		} {
			r, err := parseRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.serve(t, r); got.String() != want {
				t.Errorf("GET %s: %s, want %s (matched %s)", req, got, want, strings.Join(got.how, ", "))
			}
		}
	})

	clusters := func(cs []*cluster.Cluster) map[string]*cluster.Cluster {
		out := map[string]*cluster.Cluster{}
		for _, c := range cs {
			out[c.Name] = c
		}
		return out
	}
	atGateway := clusters(g.sim.Clusters)
	t.Run("backend-protocol HTTPS", func(t *testing.T) {
		c := atGateway["outbound|8443||tls-app.apps.svc.cluster.local"]
		if c.GetTransportSocket().GetName() != "envoy.transport_sockets.tls" {
			t.Errorf("gateway cluster of tls-app:8443 has transport socket %v, want TLS origination", c.GetTransportSocket())
		}
		if p := atGateway["outbound|80||plain.apps.svc.cluster.local"]; p == nil || p.GetTransportSocket() != nil {
			t.Errorf("gateway cluster of plain:80 (no annotation) is %v, want one without TLS", p)
		}
		sidecar := g.istiod.SetupProxy(&model.Proxy{
			Type: model.SidecarProxy, ConfigNamespace: "apps", IPAddresses: []string{"10.1.0.9"},
			Metadata: &model.NodeMetadata{Namespace: "apps", IstioVersion: "1.31.0"},
		})
		inMesh := clusters(g.istiod.Clusters(sidecar))["outbound|8443||tls-app.apps.svc.cluster.local"]
		if inMesh == nil || inMesh.GetTransportSocket() != nil {
			t.Errorf("a sidecar in namespace apps gets cluster %v for tls-app:8443, want one without the gateway's TLS origination", inMesh)
		}
	})
	t.Run("load-balance and affinity", func(t *testing.T) {
		if c := atGateway["outbound|80||search.apps.svc.cluster.local"]; c.GetLbPolicy() != cluster.Cluster_LEAST_REQUEST {
			t.Errorf("load-balance ewma: cluster lb policy %v, want LEAST_REQUEST", c.GetLbPolicy())
		}
		if c := atGateway["outbound|80||cart.apps.svc.cluster.local"]; c.GetLbPolicy() != cluster.Cluster_RING_HASH {
			t.Errorf("affinity cookie: cluster lb policy %v, want RING_HASH", c.GetLbPolicy())
		}
		var cookie string
		for _, rc := range g.routes {
			for _, vh := range rc.GetVirtualHosts() {
				for _, r := range vh.GetRoutes() {
					for _, h := range r.GetRoute().GetHashPolicy() {
						if c := h.GetCookie(); c != nil && strings.HasPrefix(vh.GetName(), "cart.example.com") {
							cookie = c.GetName()
						}
					}
				}
			}
		}
		if cookie != "route" {
			t.Errorf("affinity cookie: the route of cart.example.com hashes on cookie %q, want route", cookie)
		}
	})
}
