package istio

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ingressguard/ingressguard/convert"
)

// randomSet is a random set of Ingresses with the Services and TLS
// Secrets around them, as a cluster may hold them: every object is one
// the API server admits (checked by apiValid), but ingressguard may
// refuse some of them.
type randomSet struct {
	ings    []*networkingv1.Ingress
	svcs    []*corev1.Service
	secrets map[string]bool
}

func (s *randomSet) snapshot() convert.Snapshot {
	return convert.Snapshot{Ingresses: s.ings, Services: s.svcs, Credentials: convert.StaticCredentials{Secrets: s.secrets}}
}

// label makes a DNS label of n characters from c.
func label(c byte, n int) string { return strings.Repeat(string(c), n) }

// Long hosts: 253 characters with 63-character labels, the longest the
// API server admits, and a wildcard of the same length.
var (
	longHost     = label('a', 63) + "." + label('b', 63) + "." + label('c', 63) + "." + label('d', 57) + ".com"
	longWildcard = "*." + label('e', 63) + "." + label('f', 63) + "." + label('g', 63) + "." + label('h', 55) + ".com"
	longLabel    = label('x', 63) + ".example.com"
)

// hostKinds are the kinds of rule host a random Ingress picks from, each
// a few values so that hosts repeat across Ingresses (shared hosts, exact
// hosts under wildcards).
var hostKinds = [][]string{
	{"a.example.com", "www.example.com", "api.example.com", "example.com"}, // exact
	{"x.y.example.com", "a.example.org"},                                   // exact, deeper or elsewhere
	{"*.example.com", "*.y.example.com"},                                   // one-label wildcard
	{"myapp", "web-1", "localhost"},                                        // single label
	{""},                                                                   // no host
	{longHost, longLabel},                                                  // long
	{longWildcard},                                                         // long wildcard
	{"*.com", "*.io"},                                                      // wildcard on a top-level domain
}

func randomHost(r *rand.Rand) string {
	kind := hostKinds[r.IntN(len(hostKinds))]
	return kind[r.IntN(len(kind))]
}

var pathTypes = []*networkingv1.PathType{nil, exact, prefix, implSpec}

// randomPath is a path the API server admits for pathType pt: absolute
// for Exact and Prefix, absolute or empty for ImplementationSpecific
// (and for no pathType, which ingressguard's mutating webhook defaults).
// It includes Istio's legacy "/*" and ".*" suffixes and, rarely, a regex
// that ingressguard refuses.
func randomPath(r *rand.Rand, pt *networkingv1.PathType) string {
	segments := []string{"a", "b", "api", "v1", "static", label('s', 40)}
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString("/" + segments[r.IntN(len(segments))])
	}
	p := b.String()
	legacy := pt == nil || *pt == networkingv1.PathTypeImplementationSpecific
	if r.IntN(300) == 0 {
		return p + "/(v1|v2)" // a regex: refused by ingressguard
	}
	switch n := r.IntN(8); {
	case n < 3:
		p += "/"
	case n < 5 && legacy:
		p += "/*"
	case n < 7 && legacy && p != "":
		p += ".*"
	case n == 7 && legacy && p == "":
		return "" // everything
	}
	if p == "" {
		p = "/"
	}
	return p
}

// backends makes backends for one Ingress's namespace, adding the
// Services that named ports are resolved through.
type backends struct {
	set *randomSet
	ns  string
	n   int
}

func (b *backends) next(r *rand.Rand) networkingv1.IngressBackend {
	b.n++
	name := fmt.Sprintf("svc-%d", b.n)
	switch n := r.IntN(200); {
	case n < 100:
		return backend(name, []int32{80, 8080, 443, 65535}[r.IntN(4)])
	case n < 180:
		// a named port, resolved through the Service
		b.set.svcs = append(b.set.svcs, service(b.ns, name,
			corev1.ServicePort{Name: "metrics", Port: 9090},
			corev1.ServicePort{Name: "http", Port: int32(8000 + r.IntN(1000))}))
		return namedBackend(name, "http")
	case n < 199:
		return namedBackend(name, "http") // no Service yet: a warning
	default:
		// the Service has no such port: refused
		b.set.svcs = append(b.set.svcs, service(b.ns, name, corev1.ServicePort{Name: "grpc", Port: 9000}))
		return namedBackend(name, "http")
	}
}

var namespaces = []string{"web", "shop", "team-a", label('n', 63)}

// randomIngresses makes 1 to 4 Ingresses, oldest first, over the host
// kinds above: each with up to three rules of up to four paths, some with
// a defaultBackend or only a defaultBackend, some with tls entries for
// some of their hosts, for all hosts (no hosts), or for a host no rule
// serves.
func randomIngresses(r *rand.Rand) *randomSet {
	set := &randomSet{secrets: map[string]bool{}}
	for i := range 1 + r.IntN(4) {
		ns := namespaces[r.IntN(len(namespaces))]
		name := fmt.Sprintf("ing-%d", i)
		switch r.IntN(10) {
		case 0:
			name = fmt.Sprintf("ing.v%d.example", i) // names may have dots
		case 1:
			name = fmt.Sprintf("%s-%d", label('i', 240), i)
		}
		ing := ingress(ns, name, i, networkingv1.IngressSpec{})
		be := &backends{set: set, ns: ns, n: 100 * i}
		if i > 0 && r.IntN(6) == 0 {
			set.ings = append(set.ings, canaryOf(r, set.ings[r.IntN(i)], name, i, set))
			continue
		}
		if r.IntN(3) == 0 {
			nginxAnnotations(r, ing)
		}
		var hosts []string
		rules := 1 + r.IntN(3)
		if r.IntN(10) == 0 {
			rules = 0 // only a defaultBackend
		}
		for range rules {
			host := randomHost(r)
			hosts = append(hosts, host)
			var paths []networkingv1.HTTPIngressPath
			for range 1 + r.IntN(4) {
				pt := pathTypes[r.IntN(len(pathTypes))]
				paths = append(paths, path(randomPath(r, pt), pt, be.next(r)))
			}
			ing.Spec.Rules = append(ing.Spec.Rules, rule(host, paths...))
		}
		if rules == 0 || r.IntN(3) == 0 {
			b := be.next(r)
			ing.Spec.DefaultBackend = &b
		}
		for j := range r.IntN(3) {
			secret := fmt.Sprintf("%s-%s-tls-%d", ns[:min(len(ns), 10)], name[:min(len(name), 10)], j)
			if r.IntN(50) > 0 {
				set.secrets[secret] = true // else: no such Secret, refused
			}
			var tlsHosts []string
			switch r.IntN(4) {
			case 0: // no hosts: every host
			case 1:
				tlsHosts = []string{randomHost(r)} // maybe a host no rule serves
			default:
				for _, h := range hosts {
					if h != "" && r.IntN(2) == 0 {
						tlsHosts = append(tlsHosts, h)
					}
				}
			}
			if len(tlsHosts) == 1 && tlsHosts[0] == "" {
				tlsHosts = nil
			}
			ing.Spec.TLS = append(ing.Spec.TLS, tls(secret, tlsHosts...))
		}
		if r.IntN(4) == 0 {
			maps.Copy(ing.Annotations, randomNginxAnnotations(r))
			if r.IntN(4) > 0 {
				fitNginx(ing, be, r)
			}
		}
		set.ings = append(set.ings, ing)
	}
	return set
}

// nginxChoices are the ingress-nginx annotations whose Istio equivalent
// is a DestinationRule, an AuthorizationPolicy or a passthrough server,
// with the values randomNginxAnnotations picks from.
var nginxChoices = []struct {
	key    string
	values []string
}{
	{"backend-protocol", []string{"HTTPS", "GRPCS", "GRPC", "HTTP"}},
	{"affinity", []string{"cookie"}},
	{"session-cookie-name", []string{"route", "INGRESSCOOKIE"}},
	{"session-cookie-path", []string{"/", "/app"}},
	{"session-cookie-max-age", []string{"3600"}},
	{"load-balance", []string{"round_robin", "ewma"}},
	{"proxy-connect-timeout", []string{"1", "30"}},
	{"whitelist-source-range", []string{"10.0.0.0/8", "10.0.0.0/8, 192.0.2.7, 2001:db8::/32"}},
	{"denylist-source-range", []string{"203.0.113.0/24"}},
	{"ssl-passthrough", []string{"true"}},
}

// fitNginx makes most Ingresses with source ranges or ssl-passthrough
// ones that ingressguard admits, so that their objects reach istiod's
// validation: exact hosts only, no defaultBackend, and for passthrough a
// path / on every host and no tls entry.
func fitNginx(ing *networkingv1.Ingress, be *backends, r *rand.Rand) {
	_, allow := ing.Annotations[convert.NginxPrefix+"whitelist-source-range"]
	_, deny := ing.Annotations[convert.NginxPrefix+"denylist-source-range"]
	_, passthrough := ing.Annotations[convert.NginxPrefix+"ssl-passthrough"]
	if !allow && !deny && !passthrough {
		return
	}
	ing.Spec.DefaultBackend = nil
	if len(ing.Spec.Rules) == 0 {
		ing.Spec.Rules = []networkingv1.IngressRule{rule("", path("/x", prefix, be.next(r)))}
	}
	for i := range ing.Spec.Rules {
		if h := ing.Spec.Rules[i].Host; h == "" || strings.HasPrefix(h, "*") || !strings.Contains(h, ".") {
			ing.Spec.Rules[i].Host = fmt.Sprintf("fit%d.%s.example.com", i, ing.Namespace)
		}
		if passthrough {
			ing.Spec.Rules[i].HTTP.Paths = append(ing.Spec.Rules[i].HTTP.Paths, path("/", prefix, be.next(r)))
		}
	}
	if passthrough {
		ing.Spec.TLS = nil
	}
}

// randomNginxAnnotations picks one to four of nginxChoices.
func randomNginxAnnotations(r *rand.Rand) map[string]string {
	out := map[string]string{}
	for range 1 + r.IntN(4) {
		c := nginxChoices[r.IntN(len(nginxChoices))]
		out[convert.NginxPrefix+c.key] = c.values[r.IntN(len(c.values))]
	}
	return out
}

// nginxGroups are ingress-nginx annotations that ingressguard translates,
// with values to pick from: mostly valid, some refused (capture groups,
// a code Envoy cannot answer with, a method Envoy does not know).
var nginxGroups = [][][]string{
	{{"rewrite-target", "/", "/v2", "/a/b/", "/$1"}, {"x-forwarded-prefix", "/app"}},
	{{"app-root", "/app", "/index.html"}},
	{{"permanent-redirect", "https://www.example.org/new", "http://a.example.com:8080", "https://b.example.com"}, {"permanent-redirect-code", "301", "308", "305"}},
	{{"temporal-redirect", "https://status.example.org/?from=x", "http://c.example.com/d"}, {"temporal-redirect-code", "302", "307"}},
	{{"ssl-redirect", "true", "false"}, {"force-ssl-redirect", "true", "false"}},
	{{"proxy-read-timeout", "600", "30"}, {"proxy-send-timeout", "120", "5"}},
	{{"enable-cors", "true", "false"}, {"cors-allow-origin", "*", "https://a.example.com", "https://*.example.org:8443, http://b.example.com"},
		{"cors-allow-methods", "GET, POST", "PUT,DELETE,OPTIONS", "FETCH"}, {"cors-allow-headers", "X-Custom, Content-Type"},
		{"cors-expose-headers", "X-Total, *"}, {"cors-allow-credentials", "true", "false"}, {"cors-max-age", "600", "0"}},
	{{"upstream-vhost", "internal.example.local", "backend.example.com:8080"}},
}

// nginxAnnotations gives ing some of nginxGroups: each group with
// probability 1/4, each annotation of a group with probability 2/3.
func nginxAnnotations(r *rand.Rand, ing *networkingv1.Ingress) {
	for _, g := range nginxGroups {
		if r.IntN(4) > 0 {
			continue
		}
		for i, a := range g {
			if i == 0 || r.IntN(3) > 0 {
				ing.Annotations[convert.NginxPrefix+a[0]] = a[1+r.IntN(len(a)-1)]
			}
		}
	}
}

// canaryOf is a canary Ingress for primary's rules: the same hosts and
// paths, to Services of its own, by weight, header or cookie.
func canaryOf(r *rand.Rand, primary *networkingv1.Ingress, name string, age int, set *randomSet) *networkingv1.Ingress {
	ing := ingress(primary.Namespace, name, age, networkingv1.IngressSpec{})
	be := &backends{set: set, ns: primary.Namespace, n: 100 * age}
	for _, rl := range primary.Spec.Rules {
		var paths []networkingv1.HTTPIngressPath
		for _, p := range rl.HTTP.Paths {
			if r.IntN(4) > 0 {
				paths = append(paths, path(p.Path, p.PathType, be.next(r)))
			}
		}
		if len(paths) > 0 {
			ing.Spec.Rules = append(ing.Spec.Rules, rule(rl.Host, paths...))
		}
	}
	if len(ing.Spec.Rules) == 0 {
		ing.Spec.Rules = []networkingv1.IngressRule{rule(randomHost(r), path("/", prefix, be.next(r)))} // no primary
	}
	put := func(k, v string) { ing.Annotations[convert.NginxPrefix+k] = v }
	put("canary", "true")
	if r.IntN(2) == 0 {
		put("canary-weight", []string{"0", "5", "50", "100"}[r.IntN(4)])
		if r.IntN(3) == 0 {
			put("canary-weight-total", "1000")
		}
	}
	if r.IntN(2) == 0 {
		put("canary-by-header", "X-Canary")
		if r.IntN(2) == 0 {
			put("canary-by-header-value", "beta")
		}
	}
	if r.IntN(3) == 0 {
		put("canary-by-cookie", "canary")
	}
	return ing
}

// apiValid returns why the API server would refuse ing, or nil: the
// generator must make only Ingresses that can exist.
func apiValid(ing *networkingv1.Ingress) []string {
	var errs []string
	errs = append(errs, validation.IsDNS1123Subdomain(ing.Name)...)
	errs = append(errs, validation.IsDNS1123Label(ing.Namespace)...)
	checkHost := func(h string) {
		switch {
		case net.ParseIP(h) != nil:
			errs = append(errs, h+": an IP address")
		case strings.HasPrefix(h, "*"):
			errs = append(errs, validation.IsWildcardDNS1123Subdomain(h)...)
		default:
			errs = append(errs, validation.IsDNS1123Subdomain(h)...)
		}
	}
	checkBackend := func(b networkingv1.IngressBackend) {
		errs = append(errs, validation.IsDNS1035Label(b.Service.Name)...)
		if b.Service.Port.Name != "" {
			errs = append(errs, validation.IsValidPortName(b.Service.Port.Name)...)
		} else {
			errs = append(errs, validation.IsValidPortNum(int(b.Service.Port.Number))...)
		}
	}
	if len(ing.Spec.Rules) == 0 && ing.Spec.DefaultBackend == nil {
		errs = append(errs, "neither rules nor defaultBackend")
	}
	if ing.Spec.DefaultBackend != nil {
		checkBackend(*ing.Spec.DefaultBackend)
	}
	for _, rl := range ing.Spec.Rules {
		if rl.Host != "" {
			checkHost(rl.Host)
		}
		for _, p := range rl.HTTP.Paths {
			legacy := p.PathType == nil || *p.PathType == networkingv1.PathTypeImplementationSpecific
			if !strings.HasPrefix(p.Path, "/") && !(legacy && p.Path == "") {
				errs = append(errs, fmt.Sprintf("path %q is not absolute", p.Path))
			}
			checkBackend(p.Backend)
		}
	}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			checkHost(h)
		}
	}
	return errs
}

// features names what an Ingress exercises, for the random test's tally:
// it shows that every kind of input reached istiod's validation.
func features(ing *networkingv1.Ingress) []string {
	var out []string
	host := func(h string) string {
		switch {
		case h == "":
			return "rule without host"
		case h == longHost || h == longWildcard:
			return "253-character host"
		case strings.HasPrefix(h, "*.") && !strings.Contains(h[2:], "."):
			return "wildcard on a top-level domain (*.tld)"
		case strings.HasPrefix(h, "*."):
			return "one-label wildcard host"
		case !strings.Contains(h, "."):
			return "single-label host"
		case h == longLabel:
			return "63-character label"
		}
		return "exact host"
	}
	for _, r := range ing.Spec.Rules {
		out = append(out, host(r.Host))
		for _, p := range r.HTTP.Paths {
			switch {
			case p.PathType == nil:
				out = append(out, "no pathType")
			default:
				out = append(out, "pathType "+string(*p.PathType))
			}
			switch {
			case p.Path == "":
				out = append(out, "empty path")
			case strings.HasSuffix(p.Path, "/*"):
				out = append(out, "path ending in /*")
			case strings.HasSuffix(p.Path, ".*"):
				out = append(out, "path ending in .*")
			}
			if p.Backend.Service.Port.Name != "" {
				out = append(out, "named port")
			}
		}
	}
	if ing.Spec.DefaultBackend != nil {
		out = append(out, "defaultBackend")
	}
	for k := range ing.Annotations {
		if a, ok := strings.CutPrefix(k, convert.NginxPrefix); ok && !strings.HasPrefix(a, "canary-") {
			out = append(out, "nginx annotation "+a)
		}
	}
	if len(ing.Spec.Rules) == 0 {
		out = append(out, "only a defaultBackend")
	}
	for _, t := range ing.Spec.TLS {
		if len(t.Hosts) == 0 {
			out = append(out, "tls without hosts")
		} else {
			out = append(out, "tls with hosts")
		}
	}
	return out
}
