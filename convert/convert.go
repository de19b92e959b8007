package convert

import (
	"sort"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
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
	// Reports has one entry per Ingress of ours, sorted by namespace/name.
	Reports []Report
	// Ignored lists the Ingresses that are not ours, sorted.
	Ignored []types.NamespacedName
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
	byHost := map[string][]*Analysis{}
	for _, ing := range snap.Ingresses {
		if !s.Ours(ing, ix) {
			res.Ignored = append(res.Ignored, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
			continue
		}
		a := s.Analyze(ing, ix)
		ours = append(ours, a)
		for _, h := range a.VirtualServiceHosts() {
			byHost[h] = append(byHost[h], a)
		}
	}
	sort.Slice(ours, func(i, j int) bool { return ours[i].Key().String() < ours[j].Key().String() })
	sort.Slice(res.Ignored, func(i, j int) bool { return res.Ignored[i].String() < res.Ignored[j].String() })
	for _, a := range ours {
		res.Gateways = append(res.Gateways, s.Gateway(a))
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		t := NewHostTable(h, byHost[h])
		for _, a := range t.Ingresses {
			a.Diagnostics.Warnings = append(a.Diagnostics.Warnings, t.warnings(a)...)
		}
		if vs := s.VirtualService(t); vs != nil {
			res.VirtualServices = append(res.VirtualServices, vs)
		}
	}
	for _, a := range ours {
		res.Reports = append(res.Reports, Report{Ingress: a.Key(), Diagnostics: a.Diagnostics})
	}
	return res
}
