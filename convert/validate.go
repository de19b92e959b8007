package convert

import (
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
)

// Validate is what the validating webhook asks: every problem of SPEC
// section 3 for ing, one of ours, including the routes it shares with
// other Ingresses of ours on its hosts. It reads only the Ingresses on
// ing's hosts, and those only when a route may conflict.
func (s Settings) Validate(ing *networkingv1.Ingress, c View) Diagnostics {
	a := s.Analyze(ing, c)
	s.checkLimits(a, c)
	for _, h := range a.Hosts {
		var others []*networkingv1.Ingress
		for _, other := range c.HostIngresses(HostKey(h)) {
			if (other.Namespace != ing.Namespace || other.Name != ing.Name) && s.Ours(other, c) {
				others = append(others, other)
			}
		}
		if !a.isCanary() && !sharesMatch(h, a, others) {
			continue
		}
		as := []*Analysis{a}
		for _, other := range others {
			as = append(as, s.RoutesOf(other, c))
		}
		a.Diagnostics.Warnings = append(a.Diagnostics.Warnings, NewHostTable(h, as).warnings(a)...)
	}
	s.checkDestinations(a, c)
	return a.Diagnostics
}

// checkDestinations adds to a's warnings those of the DestinationRules
// that its annotations shape, when another Ingress of ours asks other
// settings of one of the same Service ports. An Ingress without such
// annotations reads nothing.
func (s Settings) checkDestinations(a *Analysis, c View) {
	if a.objects == nil || a.objects.policy == (destinationPolicy{}) {
		return
	}
	as := []*Analysis{a}
	for _, svc := range DestinationServices(a.Ingress) {
		for _, other := range c.DestinationIngresses(svc) {
			if (other.Namespace != a.Ingress.Namespace || other.Name != a.Ingress.Name) && s.Ours(other, c) &&
				!slices.ContainsFunc(as, func(x *Analysis) bool { return x.Ingress == other }) {
				as = append(as, s.RoutesOf(other, c))
			}
		}
	}
	if len(as) == 1 {
		return
	}
	_, warnings := s.DestinationRules(as)
	a.Diagnostics.Warnings = append(a.Diagnostics.Warnings, warnings[a]...)
}

// sharesMatch reports whether a route of a for host has the match of
// another of its routes for host, or of a servable path of the others'
// rules for host. Without one, the host's table has no conflict to tell
// a, and Validate neither analyses the others nor builds the table: the
// common case. Its cost is linear in the routes: a set of a's matches
// (compared directly, without allocating, for a few routes).
func sharesMatch(host string, a *Analysis, others []*networkingv1.Ingress) bool {
	var mine []Match
	var set map[Match]bool // only for many routes
	has := func(m Match) bool {
		if set != nil {
			return set[m]
		}
		return slices.Contains(mine, m)
	}
	for _, r := range a.routes {
		if r.Host != host {
			continue
		}
		if has(r.Match) {
			return true
		}
		switch {
		case set != nil:
			set[r.Match] = true
		case len(mine) < 8:
			mine = append(mine, r.Match)
		default:
			set = make(map[Match]bool, len(a.routes))
			for _, m := range mine {
				set[m] = true
			}
			set[r.Match] = true
		}
	}
	if len(mine) == 0 {
		return false
	}
	for _, o := range others {
		for _, rule := range o.Spec.Rules {
			if rule.Host != host || rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if m, problem := Interpret(p.Path, p.PathType); problem == "" && has(m) {
					return true
				}
			}
		}
	}
	return false
}
