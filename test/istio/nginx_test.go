package istio

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// This file asks Istio's control plane what requests get from the
// translations of ingress-nginx annotations (README, "What the
// translations do"). Every expectation is what ingress-nginx answers for
// the same Ingresses: the path its proxy_pass sends after rewrite-target
// (the whole path replaced), app-root's and the redirect annotations'
// codes and locations, ssl-redirect's 308 (nginx's default
// http-redirect-code), and a canary's share and header, cookie rules.

// nginx annotates ing with ingress-nginx annotations (names without
// prefix), after its class annotation.
func nginx(ing *networkingv1.Ingress, kv ...string) *networkingv1.Ingress {
	for i := 0; i+1 < len(kv); i += 2 {
		ing.Annotations[convert.NginxPrefix+kv[i]] = kv[i+1]
	}
	return ing
}

// nginxRow is one request, with its headers, and what ingress-nginx
// answers: "backend path /p" for a backend reached with path /p (and ",
// certificate of Secret s" over https), "redirect CODE URL", or a
// weighted split "a weight N, b weight M".
type nginxRow struct {
	req     string
	headers map[string]string
	want    string
}

// answer renders got as nginxRow.want does.
func (o outcome) answer() string {
	var s string
	switch {
	case o.problem != "":
		return "problem: " + o.problem
	case o.redirect != "":
		return "redirect " + o.redirect
	case o.weights != nil:
		s = strings.Join(o.weights, ", ") + " path " + o.path
	case o.backend == "":
		return notFound
	default:
		s = o.backend + " path " + o.path
	}
	if o.secret != "" {
		s += ", certificate of Secret " + o.secret
	}
	return s
}

var nginxCases = []struct {
	name string
	ings []*networkingv1.Ingress
	rows []nginxRow
}{
	{
		name: "rewrite-target replaces the whole path",
		ings: []*networkingv1.Ingress{
			nginx(ingress("web", "rewrite", 0, spec(rule("rewrite.example.com",
				path("/app", prefix, backend("app", 80)),
				path("/exact", exact, backend("app", 80)),
			))), "rewrite-target", "/"),
			nginx(ingress("web", "v2", 1, spec(rule("rewrite.example.com",
				path("/old", prefix, backend("api", 80)),
			))), "rewrite-target", "/v2/api", "x-forwarded-prefix", "/old"),
			ingress("web", "plain", 2, spec(rule("rewrite.example.com",
				path("/plain", prefix, backend("plain", 80)),
			))),
		},
		rows: []nginxRow{
			{"http://rewrite.example.com/app", nil, "app.web:80 path /"},
			{"http://rewrite.example.com/app/x/y", nil, "app.web:80 path /"},
			{"http://rewrite.example.com/exact", nil, "app.web:80 path /"},
			{"http://rewrite.example.com/old/list", nil, "api.web:80 path /v2/api"},
			{"http://rewrite.example.com/plain/x", nil, "plain.web:80 path /plain/x"},
		},
	},
	{
		name: "app-root and the redirect annotations answer with their codes",
		ings: []*networkingv1.Ingress{
			nginx(ingress("web", "root", 0, spec(rule("root.example.com",
				path("/", prefix, backend("app", 80)),
			))), "app-root", "/app1"),
			nginx(ingress("web", "moved", 1, spec(rule("old.example.com",
				path("/", prefix, backend("app", 80)),
			))), "permanent-redirect", "https://www.example.org/new"),
			nginx(ingress("web", "moved-308", 2, spec(rule("old.example.com",
				path("/keep", prefix, backend("app", 80)),
			))), "permanent-redirect", "https://www.example.org:8443/kept", "permanent-redirect-code", "308"),
			nginx(ingress("web", "maintenance", 3, spec(rule("shop.example.com",
				path("/", prefix, backend("shop", 80)),
			))), "temporal-redirect", "http://status.example.org/"),
		},
		rows: []nginxRow{
			{"http://root.example.com/", nil, "redirect 302 http://root.example.com/app1"},
			{"http://root.example.com/app1", nil, "app.web:80 path /app1"},
			{"http://old.example.com/some/page", nil, "redirect 301 https://www.example.org/new"},
			{"http://old.example.com/keep/x", nil, "redirect 308 https://www.example.org:8443/kept"},
			{"http://shop.example.com/cart", nil, "redirect 302 http://status.example.org/"},
		},
	},
	{
		name: "ssl-redirect on a TLS host redirects plain HTTP, per Ingress",
		ings: []*networkingv1.Ingress{
			nginx(ingress("web", "secure", 0, withTLS(spec(rule("secure.example.com",
				path("/", prefix, backend("app", 80)),
			)), tls("secure-tls", "secure.example.com"))), "ssl-redirect", "true"),
			nginx(ingress("web", "public", 1, spec(rule("secure.example.com",
				path("/public", prefix, backend("public", 80)),
			))), "ssl-redirect", "false"),
			nginx(ingress("web", "no-cert", 2, spec(rule("nocert.example.com",
				path("/", prefix, backend("app", 80)),
			))), "ssl-redirect", "true"),
			nginx(ingress("web", "forced", 3, spec(rule("forced.example.com",
				path("/", prefix, backend("app", 80)),
			))), "force-ssl-redirect", "true"),
		},
		rows: []nginxRow{
			{"http://secure.example.com/x", nil, "redirect 308 https://secure.example.com/x"},
			{"https://secure.example.com/x", nil, "app.web:80 path /x, certificate of Secret secure-tls"},
			{"http://secure.example.com/public/x", nil, "public.web:80 path /public/x"},
			{"http://nocert.example.com/x", nil, "app.web:80 path /x"},
			{"http://forced.example.com/x", nil, "redirect 308 https://forced.example.com/x"},
		},
	},
	{
		name: "a canary takes its weight and its header, cookie requests from the primary",
		ings: []*networkingv1.Ingress{
			ingress("shop", "main", 0, spec(rule("shop.example.com",
				path("/", prefix, backend("shop", 80)),
				path("/api", prefix, backend("api", 80)),
				path("/cart", prefix, backend("cart", 80)),
			))),
			nginx(ingress("shop", "cart-canary", 1, spec(rule("shop.example.com",
				path("/cart", prefix, backend("cart-v2", 80)),
			))), "canary", "true", "canary-weight", "5"),
			nginx(ingress("shop", "beta", 2, spec(rule("shop.example.com",
				path("/", prefix, backend("shop-beta", 80)),
			))), "canary", "true", "canary-by-header", "X-Canary", "canary-by-header-value", "beta"),
			nginx(ingress("shop", "api-canary", 3, spec(rule("shop.example.com",
				path("/api", prefix, backend("api-v2", 80)),
			))), "canary", "true", "canary-by-header", "X-Api-Canary", "canary-by-cookie", "api_canary", "canary-weight", "300", "canary-weight-total", "1000"),
		},
		rows: []nginxRow{
			{"http://shop.example.com/cart/items", nil, "cart.shop:80 weight 95, cart-v2.shop:80 weight 5 path /cart/items"},
			{"http://shop.example.com/", map[string]string{"x-canary": "beta"}, "shop-beta.shop:80 path /"},
			{"http://shop.example.com/", map[string]string{"x-canary": "always"}, "shop.shop:80 path /"},
			{"http://shop.example.com/", nil, "shop.shop:80 path /"},
			{"http://shop.example.com/api/v1", map[string]string{"x-api-canary": "always"}, "api-v2.shop:80 path /api/v1"},
			{"http://shop.example.com/api/v1", map[string]string{"x-api-canary": "never", "cookie": "api_canary=always"}, "api.shop:80 path /api/v1"},
			{"http://shop.example.com/api/v1", map[string]string{"cookie": "session=1; api_canary=always"}, "api-v2.shop:80 path /api/v1"},
			{"http://shop.example.com/api/v1", map[string]string{"cookie": "api_canary=never"}, "api.shop:80 path /api/v1"},
			{"http://shop.example.com/api/v1", map[string]string{"cookie": "xapi_canary=always"}, "api.shop:80 weight 700, api-v2.shop:80 weight 300 path /api/v1"},
		},
	},
}

// TestNginxAnnotations loads each case's generated objects into Istio's
// control plane and checks every request against what ingress-nginx
// answers.
func TestNginxAnnotations(t *testing.T) {
	for _, c := range nginxCases {
		t.Run(c.name, func(t *testing.T) {
			g := startGateway(t, world{ings: c.ings, svcs: withServices(c.ings, nil), secrets: tlsSecrets(c.ings)}, sameSecond)
			for _, r := range c.rows {
				req, err := parseRequest(r.req)
				if err != nil {
					t.Fatal(err)
				}
				req.headers = r.headers
				t.Run(r.req, func(t *testing.T) {
					if got := g.serve(t, req).answer(); got != r.want {
						t.Errorf("GET %s %v\n  ingress-nginx: %s\n  Istio:         %s\n  matched:       %s", req, r.headers, r.want, got, strings.Join(g.serve(t, req).how, ", "))
					}
				})
			}
		})
	}
}
