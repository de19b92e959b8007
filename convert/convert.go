package convert

import (
	"maps"
	"slices"
	"sort"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Report is the diagnostics of one of our Ingresses.
type Report struct {
	Ingress types.NamespacedName
	Diagnostics
}

// Result is what a snapshot converts to.
type Result struct {
	Gateways        []*istionet.Gateway
	VirtualServices []*istionet.VirtualService
	// DestinationRules has one DestinationRule per backend Service whose
	// connections ingress-nginx annotations shape, sorted by name.
	DestinationRules []*istionet.DestinationRule
	// AuthorizationPolicies has one per host with source ranges, in host
	// order.
	AuthorizationPolicies []*istiosec.AuthorizationPolicy
	// Reports has one entry per Ingress of ours, sorted by namespace/name.
	Reports []Report
	// Ignored lists the Ingresses that are not ours, sorted.
	Ignored []types.NamespacedName
}

// Objects lists the generated objects: the Gateways, the VirtualServices,
// the DestinationRules, then the AuthorizationPolicies.
func (r *Result) Objects() []runtime.Object {
	objs := make([]runtime.Object, 0, len(r.Gateways)+len(r.VirtualServices)+len(r.DestinationRules)+len(r.AuthorizationPolicies))
	for _, g := range r.Gateways {
		objs = append(objs, g)
	}
	for _, v := range r.VirtualServices {
		objs = append(objs, v)
	}
	for _, d := range r.DestinationRules {
		objs = append(objs, d)
	}
	for _, a := range r.AuthorizationPolicies {
		objs = append(objs, a)
	}
	return objs
}

// HasErrors reports whether any of our Ingresses has an error.
func (r *Result) HasErrors() bool {
	for _, rep := range r.Reports {
		if len(rep.Errors) > 0 {
			return true
		}
	}
	return false
}

// Convert turns a snapshot into the Istio objects that serve its Ingresses
// and the diagnostics of each. The result does not depend on the order of
// the snapshot's lists.
func (s Settings) Convert(snap Snapshot) *Result {
	ix := NewIndex(snap)
	res := &Result{}
	var ours []*Analysis
	src := sources{routing: map[string][]*Analysis{}, tls: map[string][]*networkingv1.Ingress{}}
	for _, ing := range snap.Ingresses {
		if !s.Ours(ing, ix) {
			res.Ignored = append(res.Ignored, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
			continue
		}
		a := s.Analyze(ing, ix)
		s.checkLimits(a, ix)
		ours = append(ours, a)
		for _, h := range VirtualServiceHosts(ing) {
			if a.Contributes(h) {
				src.routing[h] = append(src.routing[h], a)
			}
		}
		for _, h := range TLSHosts(ing) {
			if s.ServesTLS(ing, h, ix) {
				src.tls[h] = append(src.tls[h], ing)
			}
		}
	}
	sort.Slice(ours, func(i, j int) bool { return ours[i].Key().String() < ours[j].Key().String() })
	sort.Slice(res.Ignored, func(i, j int) bool { return res.Ignored[i].String() < res.Ignored[j].String() })
	keys := slices.Collect(maps.Keys(src.routing))
	for h := range src.tls {
		if _, ok := src.routing[h]; !ok {
			keys = append(keys, h)
		}
	}
	sort.Strings(keys)
	for _, h := range keys {
		v := NewVirtualHost(h, src)
		for _, t := range v.Tables() {
			for _, a := range t.Ingresses {
				a.Diagnostics.Warnings = append(a.Diagnostics.Warnings, t.warnings(a)...)
			}
		}
		if gw := s.Gateway(v); gw != nil {
			res.Gateways = append(res.Gateways, gw)
			res.VirtualServices = append(res.VirtualServices, s.VirtualService(v))
			if ap := s.AuthorizationPolicy(v); ap != nil {
				res.AuthorizationPolicies = append(res.AuthorizationPolicies, ap)
			}
		}
	}
	drs, warnings := s.DestinationRules(ours)
	res.DestinationRules = drs
	for _, a := range ours {
		a.Diagnostics.Warnings = append(a.Diagnostics.Warnings, warnings[a]...)
	}
	for _, a := range ours {
		res.Reports = append(res.Reports, Report{Ingress: a.Key(), Diagnostics: a.Diagnostics})
	}
	return res
}

// sources are the Sources of a snapshot.
type sources struct {
	routing map[string][]*Analysis
	tls     map[string][]*networkingv1.Ingress
}

func (s sources) Routing(key string) []*Analysis          { return s.routing[key] }
func (s sources) TLS(host string) []*networkingv1.Ingress { return s.tls[host] }
