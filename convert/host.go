package convert

import (
	"cmp"
	"fmt"
	"slices"

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
	t.conflicts = findConflicts(t.routes)
	// The defaultBackend of the oldest contributor that has one catches
	// what no rule matched, in every host of that Ingress.
	for _, a := range t.Ingresses {
		if a.fallback != nil {
			t.fallback = &fallback{from: a, dest: *a.fallback}
			break
		}
	}
	return t
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
				"%s is already routed to %s by %s, which is %s and wins; this path gets no traffic", what, w.Dest, describe(w, a), why)})
		}
		if w.from == a {
			out = append(out, Warning{Field: w.Field(), Message: fmt.Sprintf(
				"%s is also routed to %s by %s; this one is %s and wins", what, r.Dest, describe(r, a), why)})
		}
	}
	return out
}

// describe names the source of route r as seen from Analysis self.
func describe(r route, self *Analysis) string {
	if r.from == self {
		return r.Field() + " of this Ingress"
	}
	return fmt.Sprintf("Ingress %s (%s)", r.from.Key(), r.Field())
}
