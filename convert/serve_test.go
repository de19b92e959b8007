package convert_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// TestServeByMeaning converts small sets of Ingresses and says, request by
// request, what the ingress gateway must do with the generated objects:
// the backend ("" for 404 or not served) and, for https, the secret of the
// certificate. Each row is checked against the gateway model
// (gatewayServe) and against the Kubernetes rule (kubernetesServe), so the
// rows also pin the oracle of TestRoutingMatchesKubernetes.
func TestServeByMeaning(t *testing.T) {
	type row struct{ scheme, host, path, backend, secret string }
	for _, tc := range []struct {
		name string
		ings []*networkingv1.Ingress // oldest first
		svcs []*corev1.Service
		rows []row
	}{{
		name: "the Istio task's httpbin",
		ings: []*networkingv1.Ingress{ingress("default", "ingress", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			rule("httpbin.example.com", path("/status", prefix, backend("httpbin", 8000))),
		}})},
		rows: []row{
			{"http", "httpbin.example.com", "/status/200", "httpbin.default:8000", ""},
			{"http", "httpbin.example.com", "/status", "httpbin.default:8000", ""},
			{"http", "httpbin.example.com", "/headers", "", ""},
			{"http", "httpbin.example.com", "/statusx", "", ""},
			{"http", "other.example.com", "/status/200", "", ""},
			{"https", "httpbin.example.com", "/status/200", "", ""}, // no tls entry: no HTTPS server
		},
	}, {
		name: "path types and legacy suffixes",
		ings: []*networkingv1.Ingress{ingress("web", "paths", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			rule("a.test",
				path("/a", exact, backend("exact", 80)),
				path("/a", prefix, backend("prefix", 80)),
				path("/b/*", nil, backend("slash-star", 80)),
				path("/c.*", implSpec, backend("dot-star", 80)),
				path("/d", nil, backend("plain", 80))),
		}})},
		rows: []row{
			{"http", "a.test", "/a", "exact.web:80", ""},
			{"http", "a.test", "/a/", "prefix.web:80", ""},
			{"http", "a.test", "/a/x", "prefix.web:80", ""},
			{"http", "a.test", "/ab", "", ""},
			{"http", "a.test", "/b", "slash-star.web:80", ""},
			{"http", "a.test", "/b/x", "slash-star.web:80", ""},
			{"http", "a.test", "/bx", "", ""},
			{"http", "a.test", "/c/x", "dot-star.web:80", ""},
			{"http", "a.test", "/d", "plain.web:80", ""},
			{"http", "a.test", "/d/x", "", ""}, // unset pathType without suffix is Exact
		},
	}, {
		name: "exact and wildcard hosts",
		ings: []*networkingv1.Ingress{ingress("web", "site", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			rule("a.example.com", path("/app", prefix, backend("app", 80))),
			rule("*.example.com", path("/", prefix, backend("tenant", 80))),
			rule("b.example.com", path("/b", exact, backend("b", 80))),
		}})},
		rows: []row{
			{"http", "a.example.com", "/app/x", "app.web:80", ""},
			{"http", "a.example.com", "/other", "", ""}, // the exact host wins; its routes do not fall through to the wildcard
			{"http", "b.example.com", "/b", "b.web:80", ""},
			{"http", "b.example.com", "/b/c", "", ""},
			{"http", "c.example.com", "/x", "tenant.web:80", ""},
			{"http", "x.c.example.com", "/", "", ""}, // a wildcard covers exactly one label
			{"http", "example.com", "/", "", ""},
			{"http", "other.test", "/", "", ""},
		},
	}, {
		name: "defaultBackends",
		ings: []*networkingv1.Ingress{
			ingress("first", "old", 0, networkingv1.IngressSpec{
				DefaultBackend: ptr(backend("old-default", 80)),
				Rules:          []networkingv1.IngressRule{rule("a.example.com", path("/api", prefix, backend("api", 80)))},
			}),
			ingress("second", "new", 1, networkingv1.IngressSpec{
				DefaultBackend: ptr(backend("new-default", 80)),
				Rules:          []networkingv1.IngressRule{rule("b.example.com", path("/", exact, backend("b", 80)))},
			}),
			ingress("third", "web", 2, networkingv1.IngressSpec{
				Rules: []networkingv1.IngressRule{rule("a.example.com", path("/web", prefix, backend("web", 80)))},
			}),
		},
		rows: []row{
			{"http", "a.example.com", "/api/v1", "api.first:80", ""}, // rules win over every defaultBackend
			{"http", "a.example.com", "/web", "web.third:80", ""},
			{"http", "a.example.com", "/zzz", "old-default.first:80", ""}, // a host of "old"
			{"http", "b.example.com", "/", "b.second:80", ""},
			{"http", "b.example.com", "/x", "new-default.second:80", ""}, // a host of "new": its own defaultBackend
			{"http", "unknown.test", "/x", "old-default.first:80", ""},   // no rule names it: the oldest defaultBackend
			{"https", "unknown.test", "/x", "", ""},                      // no tls entry: not served
		},
	}, {
		name: "tls on hosts shared by two namespaces",
		ings: []*networkingv1.Ingress{
			ingress("shop", "shop", 0, networkingv1.IngressSpec{
				TLS: []networkingv1.IngressTLS{tls("shop-cert", "shop.example.com"), tls("admin-cert", "admin.example.com")},
				Rules: []networkingv1.IngressRule{
					rule("shop.example.com", path("/cart", prefix, backend("cart", 80))),
					rule("admin.example.com", path("/", prefix, backend("admin", 80))),
					rule("news.example.com", path("/deals", prefix, backend("deals", 80))),
				},
			}),
			ingress("blog", "blog", 1, networkingv1.IngressSpec{
				TLS: []networkingv1.IngressTLS{tls("news-cert", "news.example.com")},
				Rules: []networkingv1.IngressRule{
					rule("shop.example.com", path("/blog", prefix, backend("blog", 80))),
					rule("news.example.com", path("/", prefix, backend("news", 80))),
				},
			}),
			ingress("wild", "wild", 2, networkingv1.IngressSpec{
				TLS:   []networkingv1.IngressTLS{tls("wild-cert", "*.example.com")},
				Rules: []networkingv1.IngressRule{rule("*.example.com", path("/", prefix, backend("tenant", 80)))},
			}),
			ingress("plain", "plain", 3, networkingv1.IngressSpec{
				Rules: []networkingv1.IngressRule{rule("plain.test", path("/", prefix, backend("plain", 80)))},
			}),
		},
		rows: []row{
			{"http", "shop.example.com", "/cart", "cart.shop:80", ""},
			{"https", "shop.example.com", "/cart", "cart.shop:80", "shop-cert"},
			{"http", "shop.example.com", "/blog", "blog.blog:80", ""},
			{"https", "shop.example.com", "/blog", "blog.blog:80", "shop-cert"}, // the other namespace's route, through the shared VirtualService
			{"https", "shop.example.com", "/other", "", ""},
			{"https", "admin.example.com", "/", "admin.shop:80", "admin-cert"},    // each tls entry its own secret
			{"https", "news.example.com", "/deals", "deals.shop:80", "news-cert"}, // the older Ingress's route, tls on the newer (SPEC section 7, item 2)
			{"https", "news.example.com", "/", "news.blog:80", "news-cert"},
			{"https", "c.example.com", "/x", "tenant.wild:80", "wild-cert"},
			{"https", "x.c.example.com", "/x", "", ""}, // the wildcard certificate covers one label
			{"http", "plain.test", "/", "plain.plain:80", ""},
			{"https", "plain.test", "/", "", ""}, // no tls entry: no HTTPS server
		},
	}, {
		name: "tls without hosts covers every host of its Ingress",
		ings: []*networkingv1.Ingress{ingress("site", "site", 0, networkingv1.IngressSpec{
			TLS: []networkingv1.IngressTLS{tls("site-cert")},
			Rules: []networkingv1.IngressRule{
				rule("a.test", path("/", prefix, backend("a", 80))),
				rule("b.test", path("/", prefix, backend("b", 80))),
			},
		})},
		rows: []row{
			{"https", "a.test", "/x", "a.site:80", "site-cert"},
			{"https", "b.test", "/x", "b.site:80", "site-cert"},
			{"https", "other.test", "/x", "", ""},
		},
	}, {
		name: "named ports",
		ings: []*networkingv1.Ingress{ingress("web", "site", 0, networkingv1.IngressSpec{
			DefaultBackend: ptr(namedBackend("fallback", "http")),
			Rules:          []networkingv1.IngressRule{rule("a.test", path("/api", prefix, namedBackend("app", "http")))},
		})},
		svcs: []*corev1.Service{
			service("web", "app", corev1.ServicePort{Name: "metrics", Port: 9090}, corev1.ServicePort{Name: "http", Port: 8080}),
			service("web", "fallback", corev1.ServicePort{Name: "http", Port: 8081}),
			service("other", "app", corev1.ServicePort{Name: "http", Port: 7070}), // same name, another namespace
		},
		rows: []row{
			{"http", "a.test", "/api/x", "app.web:8080", ""},
			{"http", "a.test", "/x", "fallback.web:8081", ""},
			{"http", "other.test", "/", "fallback.web:8081", ""},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			secrets := map[string]bool{}
			for _, ing := range tc.ings {
				for _, e := range ing.Spec.TLS {
					secrets[e.SecretName] = true
				}
			}
			// Some cases share hosts across namespaces: the Kubernetes
			// rule, as a cluster without host ownership serves it.
			s := convert.DefaultSettings()
			s.HostOwnership = false
			res := s.Convert(convert.Snapshot{
				Ingresses: tc.ings, Services: tc.svcs, Credentials: convert.StaticCredentials{Secrets: secrets},
			})
			if res.HasErrors() {
				t.Fatalf("the Ingresses should be valid: %+v", res.Reports)
			}
			for _, r := range tc.rows {
				req := request{r.scheme, r.host, r.path}
				want := []outcome{{backend: r.backend, secret: r.secret}}
				if got := gatewayServe(res, tc.ings, req); !slices.Equal(got, want) {
					t.Errorf("%s: the gateway gives %+v, want %+v", req, got, want[0])
				}
				if got := kubernetesServe(tc.ings, tc.svcs, req); !slices.Equal(got, want) {
					t.Errorf("%s: the Kubernetes model says %+v, want %+v", req, got, want[0])
				}
			}
		})
	}
}
