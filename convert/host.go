package convert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// HostTable is the third stage of conversion: everything that the
// Ingresses of ours say about one host, decided once. Its routes are in
// the order SPEC section 2 gives them (the Kubernetes rule "longest match
// wins, Exact beats Prefix", made safe for Istio's first-match routing),
// its conflicts are the routes that repeat an earlier route's match with
// another destination, and its fallback is the defaultBackend that catches
// what no rule matched. The emitter (VirtualService) renders it; Convert
// and Validate turn its conflicts into warnings.
type HostTable struct {
	// Host is the rule host ("" for rules without host, the "*" host).
	Host string
	// Ingresses are the analyses of the Ingresses in the table, oldest
	// first.
	Ingresses []*Analysis

	routes    []route
	conflicts []conflict
	fallback  *fallback
	canary    *canaries // nil unless a canary Ingress has routes here
}

// canaries are the routes of canary Ingresses (nginx's canary annotation)
// in a table: by the index in routes of their primary route, and those
// that found none.
type canaries struct {
	byPrimary map[int]route
	unmerged  []unmerged
}

// conflict is a route whose match an earlier route already has, with
// another destination: only the winner gets traffic.
type conflict struct {
	winner, loser route
}

// fallback is the defaultBackend that ends a host's routes.
type fallback struct {
	from *Analysis
	dest destination
}

// NewHostTable builds the table of host ("" is "*") from the analyses of
// the Ingresses of ours that have a part in it: those whose
// VirtualServiceHosts include host, as View.HostIngresses returns them.
func NewHostTable(host string, as []*Analysis) *HostTable {
	t := &HostTable{Host: host, Ingresses: slices.Clone(as)}
	slices.SortStableFunc(t.Ingresses, func(a, b *Analysis) int { return byAge(a.Ingress, b.Ingress) })
	t.routes = hostRoutes(host, t.Ingresses)
	t.mergeCanaries()
	t.conflicts = findConflicts(t.routes)
	// The defaultBackend of the oldest contributor that has one catches
	// what no rule matched, in every host of that Ingress; a canary
	// Ingress's only takes part through its routes.
	for _, a := range t.Ingresses {
		if a.fallback != nil && !a.isCanary() {
			t.fallback = &fallback{from: a, dest: *a.fallback}
			break
		}
	}
	return t
}

// unmerged is a canary route that no primary route takes: none has its
// match, or an older canary has it already (nginx merges one canary per
// path).
type unmerged struct {
	canary  route
	taken   *route // the older canary that has the primary; nil for no primary
	foreign bool   // the primary is another namespace's
}

// isCanary reports whether a is a canary Ingress.
func (a *Analysis) isCanary() bool { return a.nginx != nil && a.nginx.canary != nil }

// mergeCanaries takes the routes of canary Ingresses out of t.routes and
// gives each to its primary: the first route of a non-canary Ingress with
// the same match, as nginx merges a canary Ingress into the main Ingress
// of the same host and path, when that Ingress is of the canary's
// namespace (nginx merged across namespaces, which let one namespace take
// another's traffic). The common table, without canaries, pays one test
// per route.
func (t *HostTable) mergeCanaries() {
	if !slices.ContainsFunc(t.routes, func(r route) bool { return r.from.isCanary() }) {
		return
	}
	var primaries, merging []route
	for _, r := range t.routes {
		if r.from.isCanary() {
			merging = append(merging, r)
		} else {
			primaries = append(primaries, r)
		}
	}
	first := make(map[Match]int, len(primaries))
	for i, r := range primaries {
		if _, ok := first[r.Match]; !ok {
			first[r.Match] = i
		}
	}
	m := &canaries{byPrimary: map[int]route{}}
	t.routes, t.canary = primaries, m
	for _, c := range merging { // older first
		i, ok := first[c.Match]
		switch taken, has := m.byPrimary[i]; {
		case !ok:
			m.unmerged = append(m.unmerged, unmerged{canary: c})
		case primaries[i].from.Ingress.Namespace != c.from.Ingress.Namespace:
			m.unmerged = append(m.unmerged, unmerged{canary: c, foreign: true})
		case has:
			m.unmerged = append(m.unmerged, unmerged{canary: c, taken: &taken})
		default:
			m.byPrimary[i] = c
		}
	}
}

// unmergedOf are the canary routes of a that no primary took.
func (c *canaries) unmergedOf(a *Analysis) []unmerged {
	if c == nil {
		return nil
	}
	var out []unmerged
	for _, u := range c.unmerged {
		if u.canary.from == a {
			out = append(out, u)
		}
	}
	return out
}

// of is the canary route merged into the route at index i, if any.
func (c *canaries) of(i int) (route, bool) {
	if c == nil {
		return route{}, false
	}
	r, ok := c.byPrimary[i]
	return r, ok
}

// byAge orders Ingresses oldest first by creation, then by namespace and
// name.
func byAge(a, b *networkingv1.Ingress) int {
	if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// sortRoutes orders routes of one host per SPEC section 2: longest path
// first, Exact before Prefix, older Ingress first, order of appearance.
func sortRoutes(rs []route) {
	slices.SortStableFunc(rs, func(a, b route) int {
		if la, lb := a.Match.Length(), b.Match.Length(); la != lb {
			return cmp.Compare(lb, la)
		}
		if a.Match.Kind != b.Match.Kind {
			if a.Match.Kind == Exact {
				return -1
			}
			return 1
		}
		if a.from != b.from {
			if c := byAge(a.from.Ingress, b.from.Ingress); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// hostRoutes collects and orders the routes that analyses give one host.
func hostRoutes(host string, as []*Analysis) []route {
	n := 0
	for _, a := range as {
		n += len(a.routes)
	}
	rs := make([]route, 0, n)
	for _, a := range as {
		for _, r := range a.routes {
			if r.Host == host {
				rs = append(rs, r)
			}
		}
	}
	sortRoutes(rs)
	return rs
}

// findConflicts finds the ordered routes of one host that repeat an
// earlier route's match with another destination.
func findConflicts(rs []route) []conflict {
	var out []conflict
	first := make(map[Match]route, len(rs))
	for _, r := range rs {
		w, ok := first[r.Match]
		if !ok {
			first[r.Match] = r
			continue
		}
		if w.Dest != r.Dest {
			out = append(out, conflict{winner: w, loser: r})
		}
	}
	return out
}

// warnings are the table's conflicts as a's warnings, in the order of the
// routes, each said from a's side: a route of a that gets no traffic, or
// one that wins over another.
func (t *HostTable) warnings(a *Analysis) []Warning {
	var out []Warning
	for _, u := range t.canary.unmergedOf(a) {
		msg := fmt.Sprintf("canary for host %q, %s: no Ingress without the canary annotation routes this host and path, so there is no primary route to share traffic with; nginx ignores such a canary, and so does Istio here; add the main Ingress or remove the canary annotation", istioHost(t.Host), u.canary.Match)
		switch {
		case u.foreign:
			msg = fmt.Sprintf("canary for host %q, %s: the route it would share is an Ingress's of another namespace, and a canary takes traffic only from the Ingresses of its own namespace (ingress-nginx merged canaries across namespaces, which let one namespace take another's traffic), so it gets no traffic; create the canary in the namespace of the Ingress it tests", istioHost(t.Host), u.canary.Match)
		case u.taken != nil:
			msg = fmt.Sprintf("canary for host %q, %s: the canary %s already shares this path's traffic, and nginx takes one canary per path, so this one gets no traffic; remove one of them", istioHost(t.Host), u.canary.Match, describe(*u.taken, a))
		}
		out = append(out, Warning{Field: u.canary.Field(), Message: msg})
	}
	for _, c := range t.conflicts {
		w, r := c.winner, c.loser
		if r.from != a && w.from != a {
			continue
		}
		what := fmt.Sprintf("host %q, %s", istioHost(t.Host), r.Match)
		why := "older"
		if w.from == r.from {
			why = "earlier"
		}
		if r.from == a {
			out = append(out, Warning{Field: r.Field(), Message: fmt.Sprintf(
				"%s is already routed %s, which is %s and wins; this path gets no traffic", what, describe(w, a), why)})
		}
		if w.from == a {
			out = append(out, Warning{Field: w.Field(), Message: fmt.Sprintf(
				"%s is also routed %s; this one is %s and wins", what, describe(r, a), why)})
		}
	}
	return out
}

// describe says where route r goes and whose it is, as seen from
// Analysis self. An Ingress of another namespace stays anonymous, with its
// backend: the gateway is shared by every namespace, and a warning must
// not tell one tenant another's objects.
func describe(r route, self *Analysis) string {
	switch {
	case r.from == self:
		return fmt.Sprintf("to %s by %s of this Ingress", r.Dest, r.Field())
	case r.from.Ingress.Namespace != self.Ingress.Namespace:
		return "by an Ingress in another namespace"
	}
	return fmt.Sprintf("to %s by Ingress %s (%s)", r.Dest, r.from.Key(), r.Field())
}

// VirtualHost is the fourth stage of conversion: everything the ingress
// gateway serves for one host key, as one Gateway and one VirtualService
// that nothing else binds to. Istio merges into the virtual host of each
// Gateway server host the routes of every VirtualService bound to that
// Gateway whose hosts intersect it, so a wildcard's routes would join an
// exact host's, first or last by age; with a Gateway per host there is
// nothing to merge, Envoy picks the most specific host, and each
// VirtualService says the whole Kubernetes rule for the requests that
// reach it:
//
//   - an exact host with rules: its table;
//   - a wildcard host "*.example.com" with rules: its table, for an
//     authority of exactly one more label, then what the rules without
//     host say, for the deeper names Envoy's wildcard also takes;
//   - the "*" host: the table of each single-label host, for that
//     authority exactly, then the rules without host;
//   - a host that only a tls entry names: what serves it over plain HTTP,
//     the table of the wildcard rule that covers it or the rules without
//     host.
//
// Its certificate is the tls entry that covers the host most specifically.
type VirtualHost struct {
	// Host is the key ("" is "*"): a rule host, except single-label
	// hosts, or a tls host.
	Host string
	// Certificate is what its HTTPS server serves; nil for none.
	Certificate *Certificate

	parts []part
}

// part is one host table in a VirtualHost: guarded by an authority regex,
// or not; own when the table is the virtual host's to report on (the
// rules without host are borrowed by every wildcard host).
type part struct {
	*HostTable
	authority string
	own       bool
}

// Certificate is the tls entry whose Secret serves a host.
type Certificate struct {
	SecretName string
	// From is the Ingress of the tls entry.
	From *networkingv1.Ingress
}

// Sources answer what a VirtualHost is built from, among the Ingresses of
// ours only.
type Sources interface {
	// Routing returns the analyses of the Ingresses whose
	// VirtualServiceHosts include key.
	Routing(key string) []*Analysis
	// TLS returns the Ingresses whose TLSHosts include host.
	TLS(host string) []*networkingv1.Ingress
}

// NewVirtualHost builds the virtual host of key from src.
func NewVirtualHost(key string, src Sources) *VirtualHost {
	v := &VirtualHost{Host: key, Certificate: certificate(key, src)}
	own := src.Routing(key)
	hostless := func() *HostTable { return NewHostTable("", withRule(src.Routing(""), "")) }
	switch {
	case key == "":
		var labels []string
		for _, a := range own {
			for _, h := range a.Hosts {
				if singleLabel(h) && !slices.Contains(labels, h) {
					labels = append(labels, h)
				}
			}
		}
		slices.Sort(labels)
		for _, h := range labels {
			v.parts = append(v.parts, part{NewHostTable(h, withRule(own, h)), exactAuthority(h), true})
		}
		v.parts = append(v.parts, part{NewHostTable("", withRule(own, "")), "", true})
	case strings.HasPrefix(key, "*"):
		if len(own) > 0 {
			v.parts = append(v.parts, part{NewHostTable(key, own), wildcardAuthority(key), true})
		}
		v.parts = append(v.parts, part{hostless(), "", false})
	case len(own) > 0:
		v.parts = append(v.parts, part{NewHostTable(key, own), "", true})
	default:
		if w := coveringWildcard(key); w != "" && len(src.Routing(w)) > 0 {
			v.parts = append(v.parts, part{NewHostTable(w, src.Routing(w)), "", false})
		} else {
			v.parts = append(v.parts, part{hostless(), "", false})
		}
	}
	return v
}

// Tables are the host tables that v reports on: each rule host's table is
// v's in exactly one VirtualHost, the one of its key.
func (v *VirtualHost) Tables() []*HostTable {
	var out []*HostTable
	for _, p := range v.parts {
		if p.own {
			out = append(out, p.HostTable)
		}
	}
	return out
}

// empty reports whether nothing routes in v.
func (v *VirtualHost) empty() bool { return !routesIn(v.parts) }

// routesIn reports whether some part routes anything.
func routesIn(parts []part) bool {
	return slices.ContainsFunc(parts, func(p part) bool { return len(p.routes) > 0 || p.fallback != nil })
}

// catchesAll reports whether a route of t matches every path.
func (t *HostTable) catchesAll() bool {
	return slices.ContainsFunc(t.routes, func(r route) bool { return r.Match == Match{Kind: Prefix, Path: "/"} })
}

// withRule keeps the analyses that have a rule for host ("" also keeps
// those with a defaultBackend in the catch-all, which catches what the
// rules without host do not).
func withRule(as []*Analysis, host string) []*Analysis {
	var out []*Analysis
	for _, a := range as {
		if slices.Contains(a.Hosts, host) || host == "" && a.catchAll() {
			out = append(out, a)
		}
	}
	return out
}

// coveringWildcard is the wildcard host that covers exact host h with one
// label ("*.example.com" for "a.example.com"), or "".
func coveringWildcard(h string) string {
	_, parent, ok := strings.Cut(h, ".")
	if !ok || strings.HasPrefix(h, "*") {
		return ""
	}
	return "*." + parent
}

// certificate picks the tls entry that serves key over HTTPS, as the
// Kubernetes rule picks it: an entry naming the host exactly, else one
// whose wildcard covers it with one label, else one without hosts; among
// equals, the oldest Ingress's first.
func certificate(key string, src Sources) *Certificate {
	for _, host := range Dependencies(key) { // most specific first
		var best *Certificate
		for _, ing := range src.TLS(host) {
			if best != nil && byAge(best.From, ing) <= 0 {
				continue
			}
			for _, t := range ing.Spec.TLS {
				if t.SecretName != "" && (host == "" && len(t.Hosts) == 0 || host != "" && slices.Contains(t.Hosts, host)) {
					best = &Certificate{SecretName: t.SecretName, From: ing}
					break
				}
			}
		}
		if best != nil {
			return best
		}
	}
	return nil
}

// Ingresses are the Ingresses v is made from: those with routes in it and
// the one whose certificate it serves, oldest first.
func (v *VirtualHost) Ingresses() []*networkingv1.Ingress {
	var out []*networkingv1.Ingress
	add := func(ing *networkingv1.Ingress) {
		if !slices.Contains(out, ing) {
			out = append(out, ing)
		}
	}
	for _, p := range v.parts {
		for _, a := range p.Ingresses {
			add(a.Ingress)
		}
	}
	if c := v.Certificate; c != nil {
		add(c.From)
	}
	slices.SortStableFunc(out, byAge)
	return out
}

// Dependencies are the hosts whose Ingresses (by VirtualServiceHosts or
// TLSHosts) NewVirtualHost reads for key: key itself, the wildcard that
// covers it with one label, and "" (the rules without host, and the tls
// entries without hosts).
func Dependencies(key string) []string {
	deps := []string{key}
	if w := coveringWildcard(key); w != "" {
		deps = append(deps, w)
	}
	if key != "" {
		deps = append(deps, "")
	}
	return deps
}
