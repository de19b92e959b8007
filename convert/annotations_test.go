package convert_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// annotated is an Ingress of class istio, valid but for anns, routing
// web.example.com to Service web.
func annotated(anns map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Annotations: anns},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("istio"),
			Rules:            []networkingv1.IngressRule{rule("web.example.com", path("/", ptr(networkingv1.PathTypePrefix), backend("web", 80)))},
		},
	}
}

// nginx makes ingress-nginx annotations from name, value pairs.
func nginx(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		m[convert.NginxPrefix+pairs[i]] = pairs[i+1]
	}
	return m
}

// with adds more annotations to m.
func with(m map[string]string, more map[string]string) map[string]string {
	for k, v := range more {
		m[k] = v
	}
	return m
}

// diag is one expected diagnostic: its field and phrases of its message.
type diag struct {
	field string
	says  []string
}

func (d diag) matches(field, msg string) bool {
	if field != d.field {
		return false
	}
	for _, s := range d.says {
		if !strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

func annotationKey(name string) string {
	return "metadata.annotations[" + convert.NginxPrefix + name + "]"
}

// TestAnnotationAnswers: what admission says of each kind of annotation of
// another controller, with and without an admin's or the author's
// acceptance. Each case lists every error and warning it expects.
func TestAnnotationAnswers(t *testing.T) {
	accept := func(v string) map[string]string { return map[string]string{convert.AcceptAnnotation: v} }
	howToAccept := func(name string) string {
		return fmt.Sprintf("To serve this Ingress without it knowingly, add %q to annotation ingressguard.io/accept-annotations (or an admin to --accept-annotations)", name)
	}
	snippet := func(name string) diag {
		return diag{annotationKey(name), []string{"Forbidden: under ingress-nginx this annotation inserts raw", "CVE-2025-1974", "Istio ignores it, so", howToAccept(name)}}
	}
	authURL := []string{"Forbidden: under ingress-nginx this annotation sends each request first to the authentication service",
		"a private route becomes public", "envoyExtAuthzHttp extension provider in mesh config", "CUSTOM AuthorizationPolicy", howToAccept("auth-url")}
	tests := []struct {
		name     string
		anns     map[string]string
		flag     []string // Settings.AcceptAnnotations
		errors   []diag
		warnings []diag
	}{{
		name: "no annotations",
	}, {
		name: "annotations of no ingress controller",
		anns: map[string]string{"app.kubernetes.io/name": "web", "kubectl.kubernetes.io/last-applied-configuration": "{}", "cert-manager.io/cluster-issuer": "le"},
	}, {
		name:   "configuration-snippet",
		anns:   nginx("configuration-snippet", `more_set_headers "X-Frame-Options: DENY";`),
		errors: []diag{snippet("configuration-snippet")},
	}, {
		name:   "server-snippet",
		anns:   nginx("server-snippet", "location /admin { deny all; }"),
		errors: []diag{snippet("server-snippet")},
	}, {
		name:   "auth-snippet",
		anns:   nginx("auth-snippet", "proxy_set_header X-Tenant shop;"),
		errors: []diag{snippet("auth-snippet")},
	}, {
		name:   "stream-snippet",
		anns:   nginx("stream-snippet", "server { listen 8000; proxy_pass 127.0.0.1:80; }"),
		errors: []diag{snippet("stream-snippet")},
	}, {
		name:   "modsecurity-snippet",
		anns:   nginx("modsecurity-snippet", "SecRuleEngine On"),
		errors: []diag{{annotationKey("modsecurity-snippet"), []string{"SecRuleEngine On turns blocking on", "requests the rules blocked would reach the backend", "WasmPlugin", howToAccept("modsecurity-snippet")}}},
	}, {
		name:   "auth-url, with what goes with it in one error",
		anns:   nginx("auth-url", "https://auth.example.com/oauth2/auth", "auth-signin", "https://auth.example.com/oauth2/start", "auth-response-headers", "X-User"),
		errors: []diag{{annotationKey("auth-url"), append(authURL, "(with auth-response-headers, auth-signin)")}},
	}, {
		name:     "auth-signin without auth-url: did nothing under nginx either",
		anns:     nginx("auth-signin", "https://auth.example.com/oauth2/start"),
		warnings: []diag{{annotationKey("auth-signin"), []string{"ignored by Istio: under ingress-nginx this annotation redirects", "but only together with nginx.ingress.kubernetes.io/auth-url, which this Ingress does not have", "remove it"}}},
	}, {
		name: "auth-type and auth-secret",
		anns: nginx("auth-type", "basic", "auth-secret", "basic-auth", "auth-realm", "Authentication Required"),
		errors: []diag{{annotationKey("auth-type"), []string{"requires HTTP basic or digest authentication", "(with auth-realm, auth-secret)",
			"without a password: a private route becomes public", "RequestAuthentication", howToAccept("auth-type")}}},
	}, {
		name:     "auth-secret without auth-type",
		anns:     nginx("auth-secret", "basic-auth"),
		warnings: []diag{{annotationKey("auth-secret"), []string{"only together with nginx.ingress.kubernetes.io/auth-type"}}},
	}, {
		name: "auth-tls-secret",
		anns: nginx("auth-tls-secret", "shop/ca", "auth-tls-verify-client", "on", "auth-tls-match-cn", "CN=client"),
		errors: []diag{{annotationKey("auth-tls-secret"), []string{"requires client certificates signed by the CA", "(with auth-tls-match-cn, auth-tls-verify-client)",
			"the host would accept clients without a certificate", "tls.mode MUTUAL", howToAccept("auth-tls-secret")}}},
	}, {
		name:     "accepted by the Ingress: a warning that still says what is lost",
		anns:     with(nginx("auth-url", "https://auth.example.com/"), accept("auth-url")),
		warnings: []diag{{annotationKey("auth-url"), []string{"accepted by annotation ingressguard.io/accept-annotations: under ingress-nginx", "a private route becomes public"}}},
	}, {
		name: "accepted by the Ingress, names with the prefix and spaces",
		anns: with(nginx("auth-url", "https://auth.example.com/", "configuration-snippet", "x"), accept(" nginx.ingress.kubernetes.io/configuration-snippet , auth-url,")),
		warnings: []diag{
			{annotationKey("auth-url"), []string{"accepted by annotation", "a private route becomes public"}},
			{annotationKey("configuration-snippet"), []string{"accepted by annotation", "CVE-2025-1974"}},
		},
	}, {
		name:     "accepting one refusal leaves the other",
		anns:     with(nginx("auth-url", "https://auth.example.com/", "configuration-snippet", "x"), accept("auth-url")),
		errors:   []diag{snippet("configuration-snippet")},
		warnings: []diag{{annotationKey("auth-url"), []string{"accepted by annotation"}}},
	}, {
		name:   "the Ingress cannot accept with * nor names that are not refused",
		anns:   with(nginx("configuration-snippet", "x"), accept("*,proxy-body-size,auth-ur")),
		errors: []diag{snippet("configuration-snippet")},
		warnings: []diag{{"metadata.annotations[ingressguard.io/accept-annotations]", []string{`names "*", "proxy-body-size", "auth-ur", which ingressguard does not refuse`,
			"list only the refused annotations"}}},
	}, {
		name:     "accepted by the admin's flag",
		anns:     nginx("auth-url", "https://auth.example.com/", "server-snippet", "x"),
		flag:     []string{"nginx.ingress.kubernetes.io/auth-url"},
		errors:   []diag{snippet("server-snippet")},
		warnings: []diag{{annotationKey("auth-url"), []string{"accepted by the cluster's --accept-annotations: under ingress-nginx", "a private route becomes public"}}},
	}, {
		name: "the admin's flag accepts all with *",
		anns: nginx("auth-type", "basic", "auth-secret", "s", "stream-snippet", "x"),
		flag: []string{"*"},
		warnings: []diag{
			{annotationKey("auth-type"), []string{"accepted by the cluster's --accept-annotations", "(with auth-secret)"}},
			{annotationKey("stream-snippet"), []string{"accepted by the cluster's --accept-annotations", "TCP or UDP servers"}},
		},
	}, {
		name: "ignored, with the equivalent",
		anns: nginx("proxy-body-size", "8m", "use-regex", "true"),
		warnings: []diag{
			{annotationKey("proxy-body-size"), []string{"ignored by Istio: under ingress-nginx this annotation limits the request body", "larger uploads reach the backend", "equivalent: an EnvoyFilter"}},
			{annotationKey("use-regex"), []string{"ignored by Istio", "under nginx /api also matched /apis and /API"}},
		},
	}, {
		name:     "ignored, with what goes with it in one warning",
		anns:     nginx("limit-rps", "10", "limit-burst-multiplier", "3", "limit-whitelist", "10.0.0.0/8"),
		warnings: []diag{{annotationKey("limit-rps"), []string{"ignored by Istio (with limit-burst-multiplier, limit-whitelist): under ingress-nginx this annotation limits requests per second", "rate-limit service"}}},
	}, {
		name:     "ignored, alone though it goes with another",
		anns:     nginx("limit-burst-multiplier", "3"),
		warnings: []diag{{annotationKey("limit-burst-multiplier"), []string{"ignored by Istio: under ingress-nginx this annotation allows bursts", "no client is rate-limited"}}},
	}, {
		name:     "ignored, going with a translated one",
		anns:     nginx("session-cookie-samesite", "Strict"),
		warnings: []diag{{annotationKey("session-cookie-samesite"), []string{"ignored by Istio", "the affinity cookie has no SameSite attribute"}}},
	}, {
		name:     "a name ingress-nginx does not have",
		anns:     nginx("proxy-body-sise", "8m"),
		warnings: []diag{{annotationKey("proxy-body-sise"), []string{"ignored by Istio: ingress-nginx controller-v1.15.1 has no annotation of this name", "check the spelling"}}},
	}, {
		name: "other controllers: one warning each",
		anns: map[string]string{
			"alb.ingress.kubernetes.io/scheme": "internal", "alb.ingress.kubernetes.io/target-type": "ip",
			"traefik.ingress.kubernetes.io/router.middlewares": "shop-auth@kubernetescrd",
			"kubernetes.io/ingress.global-static-ip-name":      "web-ip",
			"projectcontour.io/response-timeout":               "30s",
		},
		warnings: []diag{
			{"metadata.annotations", []string{"ignored by Istio: annotations alb.ingress.kubernetes.io/scheme, alb.ingress.kubernetes.io/target-type of the AWS Load Balancer Controller", "cloud load balancer", "served without that restriction"}},
			{"metadata.annotations[kubernetes.io/ingress.global-static-ip-name]", []string{"ignored by Istio: an annotation of GKE Ingress"}},
			{"metadata.annotations[projectcontour.io/response-timeout]", []string{"ignored by Istio: an annotation of Contour", "VirtualService"}},
			{"metadata.annotations[traefik.ingress.kubernetes.io/router.middlewares]", []string{"ignored by Istio: an annotation of Traefik", "served without that restriction"}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := convert.DefaultSettings()
			s.AcceptAnnotations = tt.flag
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
			ing := annotated(tt.anns)
			ix := convert.NewIndex(convert.Snapshot{Ingresses: []*networkingv1.Ingress{ing}})
			d := s.Validate(ing, ix)
			check := func(what string, want []diag, fields, msgs []string) {
				if len(fields) != len(want) {
					t.Errorf("%d %s, want %d:\n%s", len(fields), what, len(want), strings.Join(msgs, "\n"))
					return
				}
				for i, w := range want {
					if !w.matches(fields[i], msgs[i]) {
						t.Errorf("%s %d is\n%s: %s\nwant field %s saying %q", what, i, fields[i], msgs[i], w.field, w.says)
					}
				}
			}
			var fields, msgs []string
			for _, e := range d.Errors {
				fields, msgs = append(fields, e.Field), append(msgs, e.ErrorBody())
			}
			check("errors", tt.errors, fields, msgs)
			fields, msgs = nil, nil
			for _, w := range d.Warnings {
				fields, msgs = append(fields, w.Field), append(msgs, w.Message)
			}
			check("warnings", tt.warnings, fields, msgs)
			// The map's order never shows.
			for range 5 {
				if again := s.Validate(ing, ix); !slices.Equal(messagesInOrder(again), messagesInOrder(d)) {
					t.Fatalf("diagnostics depend on the annotations' map order:\n%v\n%v", messagesInOrder(again), messagesInOrder(d))
				}
			}
		})
	}
}

// messagesInOrder lists a diagnostics' errors and warnings as reported.
func messagesInOrder(d convert.Diagnostics) []string {
	var out []string
	for _, e := range d.Errors {
		out = append(out, e.Error())
	}
	for _, w := range d.Warnings {
		out = append(out, w.String())
	}
	return out
}

// TestTranslatedAnnotationsAreNotWarned: the annotations the catalogue
// calls translated get no "ignored" warning and no refusal from it (their
// values are the translation's to check).
func TestTranslatedAnnotationsAreNotWarned(t *testing.T) {
	s := convert.DefaultSettings()
	for e := range convert.NginxAnnotations() {
		if e.Answer != convert.Translated {
			continue
		}
		ing := annotated(nginx(e.Name, "x"))
		for _, m := range messagesInOrder(s.Analyze(ing, convert.NewIndex(convert.Snapshot{})).Diagnostics) {
			if strings.Contains(m, "ignored by Istio") || strings.Contains(m, "Istio ignores it") {
				t.Errorf("%s: %s", e.Name, m)
			}
		}
	}
}

// TestAnnotationAnswer is what the migration report reads.
func TestAnnotationAnswer(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want convert.Answer
		ok   bool
	}{
		{convert.NginxPrefix + "rewrite-target", convert.Translated, true},
		{convert.NginxPrefix + "whitelist-source-range", convert.Translated, true},
		{convert.NginxPrefix + "auth-url", convert.Refused, true},
		{convert.NginxPrefix + "auth-signin", convert.Refused, true},
		{convert.NginxPrefix + "configuration-snippet", convert.Refused, true},
		{convert.NginxPrefix + "proxy-body-size", convert.Ignored, true},
		{convert.NginxPrefix + "no-such-annotation", convert.Ignored, true},
		{"alb.ingress.kubernetes.io/scheme", convert.Ignored, true},
		{"kubernetes.io/ingress.allow-http", convert.Ignored, true},
		{"nginx.org/client-max-body-size", convert.Ignored, true},
		{convert.ClassAnnotation, "", false},
		{"app.kubernetes.io/name", "", false},
		{convert.AcceptAnnotation, "", false},
	} {
		if got, ok := convert.AnnotationAnswer(tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("AnnotationAnswer(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

// TestAcceptAnnotationsSetting: the flag takes refused names, with or
// without the prefix, and "*"; anything else stops the program at start.
func TestAcceptAnnotationsSetting(t *testing.T) {
	for _, tt := range []struct {
		names []string
		err   string
	}{
		{names: nil},
		{names: []string{"*"}},
		{names: []string{"auth-url", "nginx.ingress.kubernetes.io/server-snippet", "auth-tls-secret"}},
		{names: []string{"auth-url", "proxy-body-size", "rewrite-target", "nope"},
			err: `accept annotations "proxy-body-size", "rewrite-target", "nope": not refused annotations of ingress-nginx`},
	} {
		s := convert.DefaultSettings()
		s.AcceptAnnotations = tt.names
		err := s.Check()
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%v: Check() = %v, want %q", tt.names, err, tt.err)
		}
	}
}

// hostSources are the Sources of one host, as the host reconciler
// builds them with RoutesOf.
type hostSources []*convert.Analysis

func (h hostSources) Routing(string) []*convert.Analysis { return h }
func (h hostSources) TLS(string) []*networkingv1.Ingress { return nil }

// TestRefusedIngressIsNotServed: an Ingress stored with a refused
// annotation (admitted before ingressguard, or while its webhook was
// down) gets no route from the CLI's conversion nor from the host
// reconciler, as a refused path gets none; once accepted, it is served.
func TestRefusedIngressIsNotServed(t *testing.T) {
	for _, tt := range []struct {
		name   string
		anns   map[string]string
		flag   []string
		served bool
	}{
		{name: "auth-url", anns: nginx("auth-url", "https://auth.example.com/")},
		{name: "a snippet", anns: nginx("server-snippet", "x", "proxy-body-size", "8m")},
		{name: "accepted by the Ingress", anns: with(nginx("auth-url", "https://auth.example.com/"), map[string]string{convert.AcceptAnnotation: "auth-url"}), served: true},
		{name: "accepted by the flag", anns: nginx("auth-url", "https://auth.example.com/"), flag: []string{"auth-url"}, served: true},
		{name: "one of two accepted", anns: with(nginx("auth-url", "u", "auth-type", "basic"), map[string]string{convert.AcceptAnnotation: "auth-url"})},
		{name: "a companion alone", anns: nginx("auth-signin", "https://auth.example.com/start"), served: true},
		{name: "ignored ones", anns: nginx("proxy-body-size", "8m", "limit-rps", "5"), served: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := convert.DefaultSettings()
			s.AcceptAnnotations = tt.flag
			ing := annotated(tt.anns)
			ing.Spec.DefaultBackend = ptr(backend("web", 80))
			snap := convert.Snapshot{Ingresses: []*networkingv1.Ingress{ing},
				IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "istio"}, Spec: networkingv1.IngressClassSpec{Controller: convert.ControllerName}}}}
			if got := len(s.Convert(snap).VirtualServices) > 0; got != tt.served {
				t.Errorf("convert: served = %v, want %v", got, tt.served)
			}
			ix := convert.NewIndex(snap)
			for _, host := range []string{"web.example.com", ""} {
				v := convert.NewVirtualHost(host, hostSources{s.RoutesOf(ing, ix)})
				if got := s.Gateway(v) != nil; got != tt.served {
					t.Errorf("host reconciler, host %q: served = %v, want %v", host, got, tt.served)
				}
			}
		})
	}
}

// TestPlainHTTPWarning: an Ingress that comes from ingress-nginx (it has
// nginx annotations) and has a tls entry for a host of its rules is warned
// that plain HTTP is no longer redirected, unless it says which it means.
func TestPlainHTTPWarning(t *testing.T) {
	tls := func(hosts ...string) []networkingv1.IngressTLS {
		return []networkingv1.IngressTLS{{Hosts: hosts, SecretName: "web-cert"}}
	}
	tests := []struct {
		name string
		anns map[string]string
		tls  []networkingv1.IngressTLS
		want bool
	}{
		{"nginx annotations and a tls entry for the host", nginx("proxy-read-timeout", "60"), tls("web.example.com"), true},
		{"a tls entry without hosts covers the rule without host only", nginx("proxy-read-timeout", "60"), tls(), false},
		{"ssl-redirect true", nginx("proxy-read-timeout", "60", "ssl-redirect", "true"), tls("web.example.com"), false},
		{"ssl-redirect false: plain HTTP is meant", nginx("ssl-redirect", "false"), tls("web.example.com"), false},
		{"force-ssl-redirect", nginx("force-ssl-redirect", "true"), tls("web.example.com"), false},
		{"no nginx annotation: never under ingress-nginx", map[string]string{"app.kubernetes.io/name": "web"}, tls("web.example.com"), false},
		{"no tls entry", nginx("proxy-read-timeout", "60"), nil, false},
		{"a tls entry for another host only", nginx("proxy-read-timeout", "60"), tls("other.example.com"), false},
	}
	s := convert.DefaultSettings()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := annotated(tt.anns)
			ing.Spec.TLS = tt.tls
			ix := convert.NewIndex(convert.Snapshot{Credentials: convert.StaticCredentials{Secrets: map[string]bool{"web-cert": true}}})
			d := s.Validate(ing, ix)
			var got []string
			for _, w := range d.Warnings {
				if w.Field == annotationKey("ssl-redirect") {
					got = append(got, w.Message)
				}
			}
			switch {
			case tt.want && len(got) != 1:
				t.Fatalf("warnings on ssl-redirect: %q, want one; all: %v", got, messagesInOrder(d))
			case !tt.want && len(got) != 0:
				t.Fatalf("warned: %q", got)
			case tt.want:
				for _, says := range []string{"not set", "redirects plain HTTP to HTTPS (308) by default", "web.example.com", "now also served over plain HTTP", `set it to "true"`, `"false" if plain HTTP is meant`} {
					if !strings.Contains(got[0], says) {
						t.Errorf("warning %q does not say %q", got[0], says)
					}
				}
			}
		})
	}
}

// TestAnnotationAnswerOn: a refused annotation that only modifies another
// is ignored on an Ingress without that one, as admission warns it.
func TestAnnotationAnswerOn(t *testing.T) {
	signin, url := convert.NginxPrefix+"auth-signin", convert.NginxPrefix+"auth-url"
	for _, tt := range []struct {
		key  string
		on   map[string]string
		want convert.Answer
	}{
		{signin, nginx("auth-signin", "x"), convert.Ignored},
		{signin, nginx("auth-signin", "x", "auth-url", "y"), convert.Refused},
		{url, nginx("auth-url", "y"), convert.Refused},
		{convert.NginxPrefix + "rewrite-target", nginx("rewrite-target", "/"), convert.Translated},
		{convert.NginxPrefix + "proxy-body-size", nil, convert.Ignored},
	} {
		if got, ok := convert.AnnotationAnswerOn(tt.key, tt.on); got != tt.want || !ok {
			t.Errorf("AnnotationAnswerOn(%q, %v) = %q, %v; want %q", tt.key, tt.on, got, ok, tt.want)
		}
	}
	if got, ok := convert.AnnotationAnswerOn("app.kubernetes.io/name", nil); ok {
		t.Errorf("an annotation of no controller answered %q", got)
	}
}
