package convert_test

import (
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// sharedWith sets the owner's consent to share ing's hosts with
// namespaces.
func sharedWith(namespaces string, ing *networkingv1.Ingress) *networkingv1.Ingress {
	ing.Annotations[convert.AnnotationShareHostWith] = namespaces
	return ing
}

// spec is an IngressSpec of rules and tls entries.
func spec(rules []networkingv1.IngressRule, entries ...networkingv1.IngressTLS) networkingv1.IngressSpec {
	return networkingv1.IngressSpec{Rules: rules, TLS: entries}
}

// hostObjects lists what the gateway serves for host in res: the destination
// hosts of its VirtualService's routes, the credentials of its Gateway and
// the Ingresses its objects say they are made from.
func hostObjects(res *convert.Result, host string) (dests, secrets, from []string) {
	for _, vs := range res.VirtualServices {
		if vs.Annotations[convert.AnnotationHost] != host {
			continue
		}
		from = strings.Split(vs.Annotations[convert.AnnotationIngresses], ",")
		for _, h := range vs.Spec.Http {
			for _, r := range h.Route {
				dests = append(dests, r.Destination.Host)
			}
		}
	}
	for _, gw := range res.Gateways {
		if gw.Annotations[convert.AnnotationHost] != host {
			continue
		}
		for _, s := range gw.Spec.Servers {
			if s.Tls != nil {
				secrets = append(secrets, s.Tls.CredentialName)
			}
		}
	}
	return dests, secrets, from
}

// TestHostOwnership: the namespace whose Ingress claimed a host first owns
// it; a later Ingress of another namespace that claims it is refused by
// Validate, with an error on each claiming field that names no other
// tenant's objects, and is left out of what Convert generates for the
// host (with the same errors in its report), unless the owner shares the
// host or ownership is off.
func TestHostOwnership(t *testing.T) {
	login := []networkingv1.IngressRule{rule("a.example.com", path("/login", exact, backend("phish", 80)))}
	owner := func() *networkingv1.Ingress {
		return ingress("team-a", "shop", 0, spec([]networkingv1.IngressRule{rule("a.example.com", path("/", prefix, backend("shop", 80)))}, tls("a-tls", "a.example.com")))
	}
	noTimestamp := func(ing *networkingv1.Ingress) *networkingv1.Ingress {
		ing.CreationTimestamp = metav1.Time{}
		return ing
	}
	for _, tc := range []struct {
		name  string
		ings  []*networkingv1.Ingress // the last one is judged
		off   bool                    // host ownership off
		host  string                  // the host whose objects are checked ("" for none)
		want  []string                // the fields refused
		warn  string                  // a field warned about
		leaks bool                    // the judged Ingress's routes are in host's objects
	}{{
		name: "the owner alone",
		ings: []*networkingv1.Ingress{owner()},
		host: "a.example.com", leaks: true,
	}, {
		name: "a later Ingress of another namespace, with the owner's certificate",
		ings: []*networkingv1.Ingress{owner(), ingress("team-b", "login", 1, spec(login, tls("a-tls", "a.example.com")))},
		host: "a.example.com", want: []string{"spec.rules[0].host", "spec.tls[0].hosts[0]"},
	}, {
		name: "a later Ingress of the same namespace",
		ings: []*networkingv1.Ingress{owner(), ingress("team-a", "login", 1, spec(login))},
		host: "a.example.com", leaks: true,
	}, {
		name: "shared by the owner with that namespace",
		ings: []*networkingv1.Ingress{sharedWith("team-c, team-b", owner()), ingress("team-b", "login", 1, spec(login, tls("a-tls", "a.example.com")))},
		host: "a.example.com", leaks: true,
	}, {
		name: "shared by the owner with every namespace",
		ings: []*networkingv1.Ingress{sharedWith("*", owner()), ingress("team-b", "login", 1, spec(login))},
		host: "a.example.com", leaks: true,
	}, {
		name: "shared by the owner with another namespace only",
		ings: []*networkingv1.Ingress{sharedWith("team-c", owner()), ingress("team-b", "login", 1, spec(login))},
		host: "a.example.com", want: []string{"spec.rules[0].host"},
	}, {
		name: "shared by a newer Ingress of the owner's namespace for the host",
		ings: []*networkingv1.Ingress{owner(), sharedWith("team-b", ingress("team-a", "grant", 2, spec(login))), ingress("team-b", "login", 1, spec(login))},
		host: "a.example.com", leaks: true,
	}, {
		name: "a grant by a namespace that does not own the host counts for nothing",
		ings: []*networkingv1.Ingress{owner(), sharedWith("team-b", ingress("team-c", "other", 1, spec(login))), ingress("team-b", "login", 2, spec(login))},
		host: "a.example.com", want: []string{"spec.rules[0].host"},
	}, {
		name: "ownership off",
		ings: []*networkingv1.Ingress{owner(), ingress("team-b", "login", 1, spec(login, tls("a-tls", "a.example.com")))},
		off:  true, host: "a.example.com", leaks: true,
	}, {
		name: "created at the same second: the first namespace by name owns it",
		ings: []*networkingv1.Ingress{owner(), ingress("team-b", "login", 0, spec(login))},
		host: "a.example.com", want: []string{"spec.rules[0].host"},
	}, {
		name: "created at the same second, judged from the first namespace by name",
		ings: []*networkingv1.Ingress{ingress("team-b", "login", 0, spec(login)), owner()},
		host: "a.example.com", leaks: true,
	}, {
		name: "an older Ingress of the same namespace keeps the host its namespace's",
		ings: []*networkingv1.Ingress{ingress("team-b", "first", 0, spec(login)), ingress("team-a", "shop", 1, spec(login)), ingress("team-b", "login", 2, spec(login))},
		host: "a.example.com", leaks: true,
	}, {
		name: "not created yet (read from a file): after every created one",
		ings: []*networkingv1.Ingress{owner(), noTimestamp(ingress("team-b", "login", 0, spec(login)))},
		host: "a.example.com", want: []string{"spec.rules[0].host"},
	}, {
		name: "a tls entry claims its host",
		ings: []*networkingv1.Ingress{
			ingress("team-a", "cert", 0, spec(nil, tls("a-tls", "a.example.com"))),
			ingress("team-b", "login", 1, spec(login)),
		},
		want: []string{"spec.rules[0].host"},
	}, {
		name: "a wildcard is a host of its own",
		ings: []*networkingv1.Ingress{
			ingress("team-a", "wild", 0, spec([]networkingv1.IngressRule{rule("*.example.com", path("/", prefix, backend("wild", 80)))})),
			ingress("team-b", "login", 1, spec(login)),
		},
		host: "a.example.com", leaks: true,
	}, {
		name: "a single-label host is a host of its own",
		ings: []*networkingv1.Ingress{
			ingress("team-a", "app", 0, spec([]networkingv1.IngressRule{rule("myapp", path("/", prefix, backend("app", 80)))})),
			ingress("team-b", "app", 1, spec([]networkingv1.IngressRule{rule("myapp", path("/login", exact, backend("phish", 80))), rule("other", path("/", prefix, backend("other", 80)))})),
		},
		want: []string{"spec.rules[0].host"},
	}, {
		name: "the catch-all: a rule without host, a defaultBackend and a tls entry without hosts",
		ings: []*networkingv1.Ingress{
			ingress("team-a", "default", 0, networkingv1.IngressSpec{DefaultBackend: ptr(backend("default", 80))}),
			ingress("team-b", "catch", 1, networkingv1.IngressSpec{
				DefaultBackend: ptr(backend("phish", 80)),
				Rules:          []networkingv1.IngressRule{rule("", path("/login", exact, backend("phish", 80))), rule("b.example.com", path("/", prefix, backend("b", 80)))},
				TLS:            []networkingv1.IngressTLS{tls("a-tls")},
			}),
		},
		host: "", want: []string{"spec.rules[0].host", "spec.tls[0].hosts"}, warn: "spec.defaultBackend",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := convert.DefaultSettings()
			s.HostOwnership = !tc.off
			snap := convert.Snapshot{Ingresses: tc.ings, Credentials: convert.StaticCredentials{Secrets: map[string]bool{"a-tls": true}}}
			judged := tc.ings[len(tc.ings)-1]
			d := s.Validate(judged, convert.NewIndex(snap))
			var got []string
			for _, e := range d.Errors {
				got = append(got, e.Field)
				for _, other := range tc.ings {
					if other.Namespace != judged.Namespace && (strings.Contains(e.Detail, other.Namespace) || strings.Contains(e.Detail, `"`+other.Name+`"`)) {
						t.Errorf("the refusal names another tenant's %s/%s: %s", other.Namespace, other.Name, e.Detail)
					}
				}
				if !strings.Contains(e.Detail, "another namespace") || !strings.Contains(e.Detail, convert.AnnotationShareHostWith) || !strings.Contains(e.Detail, `"`+judged.Namespace+`"`) {
					t.Errorf("the refusal does not say why and how to get the host shared: %s", e.Detail)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("refused %v, want %v: %v", got, tc.want, d.Errors)
			}
			if tc.warn != "" && !slices.ContainsFunc(d.Warnings, func(w convert.Warning) bool {
				return w.Field == tc.warn && strings.Contains(w.Message, "another namespace")
			}) {
				t.Errorf("no warning at %s that another namespace owns it: %v", tc.warn, d.Warnings)
			}
			res := s.Convert(snap)
			if tc.host == "" && tc.want == nil {
				return
			}
			dests, secrets, from := hostObjects(res, tc.host)
			mine := slices.ContainsFunc(dests, func(h string) bool { return strings.HasSuffix(h, "."+judged.Namespace+".svc.cluster.local") })
			if len(judged.Spec.Rules) > 0 && mine != tc.leaks {
				t.Errorf("the judged Ingress's routes are in host %q's VirtualService: %v, want %v (%v)", tc.host, mine, tc.leaks, dests)
			}
			if slices.Contains(from, judged.Namespace+"/"+judged.Name) != tc.leaks {
				t.Errorf("host %q's objects are made from %v; the judged Ingress among them: want %v", tc.host, from, tc.leaks)
			}
			if !tc.leaks && slices.Contains(secrets, "a-tls") && tc.ings[0].Spec.TLS == nil {
				t.Errorf("host %q serves the intruder's certificate", tc.host)
			}
		})
	}
}

// TestCertificateUse: a TLS Secret in the gateway namespace is served only
// for the namespaces it (or else its cert-manager Certificate) lists in
// ingressguard.io/allowed-namespaces; without that annotation, any
// namespace may, with a warning, unless certificate use is strict. A
// refused tls entry is an error and the gateway does not serve it. A
// Certificate whose dnsNames do not cover a tls host gets a warning.
func TestCertificateUse(t *testing.T) {
	declared := func(v string) convert.CredentialUse { return convert.CredentialUse{Declared: true, Namespaces: v} }
	for _, tc := range []struct {
		name    string
		strict  bool
		secret  bool // the Secret exists (else a Certificate issues it)
		use     convert.CredentialUse
		hosts   []string
		errors  []string // fields
		warns   []string // fields
		servedC bool     // the host's Gateway serves the certificate
	}{
		{name: "undeclared", secret: true, hosts: []string{"a.example.com"}, warns: []string{"spec.tls[0].secretName"}, servedC: true},
		{name: "undeclared, strict", strict: true, secret: true, hosts: []string{"a.example.com"}, errors: []string{"spec.tls[0].secretName"}},
		{name: "declared for the namespace", secret: true, use: declared("team-b, team-a"), hosts: []string{"a.example.com"}, servedC: true},
		{name: "declared for the namespace, strict", strict: true, secret: true, use: declared("team-a"), hosts: []string{"a.example.com"}, servedC: true},
		{name: "declared for every namespace, strict", strict: true, secret: true, use: declared("*"), hosts: []string{"a.example.com"}, servedC: true},
		{name: "declared for others", secret: true, use: declared("team-b"), hosts: []string{"a.example.com"}, errors: []string{"spec.tls[0].secretName"}},
		{name: "declared for none", secret: true, use: declared(""), hosts: []string{"a.example.com"}, errors: []string{"spec.tls[0].secretName"}},
		{
			name: "issued by a Certificate that covers the hosts", strict: true,
			use:   convert.CredentialUse{Declared: true, Namespaces: "team-a", Certificate: "a", DNSNames: []string{"a.example.com", "*.a.example.com"}},
			hosts: []string{"a.example.com", "www.a.example.com"}, servedC: true,
		},
		{
			name:  "issued by a Certificate that does not cover a host",
			use:   convert.CredentialUse{Declared: true, Namespaces: "team-a", Certificate: "a", DNSNames: []string{"a.example.com", "*.a.example.com"}},
			hosts: []string{"a.example.com", "deep.www.a.example.com"}, warns: []string{"spec.tls[0].hosts[1]"}, servedC: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := convert.DefaultSettings()
			if tc.strict {
				s.CertificateUse = convert.CertificateUseStrict
			}
			var rules []networkingv1.IngressRule
			for _, h := range tc.hosts {
				rules = append(rules, rule(h, path("/", prefix, backend("web", 80))))
			}
			ing := ingress("team-a", "web", 0, spec(rules, tls("a-tls", tc.hosts...)))
			creds := convert.StaticCredentials{Secrets: map[string]bool{"a-tls": tc.secret}, Uses: map[string]convert.CredentialUse{"a-tls": tc.use}}
			if !tc.secret {
				creds.Certificates = map[string]string{"a-tls": "a"}
			}
			snap := convert.Snapshot{Ingresses: []*networkingv1.Ingress{ing}, Credentials: creds}
			d := s.Validate(ing, convert.NewIndex(snap))
			var errs, warns []string
			for _, e := range d.Errors {
				errs = append(errs, e.Field)
			}
			for _, w := range d.Warnings {
				if strings.Contains(w.Message, "certificate") {
					warns = append(warns, w.Field)
				}
			}
			if !slices.Equal(errs, tc.errors) || !slices.Equal(warns, tc.warns) {
				t.Errorf("errors at %v, warnings at %v; want %v and %v: %v %v", errs, warns, tc.errors, tc.warns, d.Errors, d.Warnings)
			}
			_, secrets, _ := hostObjects(s.Convert(snap), tc.hosts[0])
			if got := slices.Contains(secrets, "a-tls"); got != tc.servedC {
				t.Errorf("the gateway serves the certificate for %s: %v, want %v", tc.hosts[0], got, tc.servedC)
			}
		})
	}
}
