package convert_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
)

// TestValidateMatchesConvert: for every Ingress of ours in the golden
// inputs, what the validating webhook reports (Validate, which sees only
// the Ingresses on the same hosts) is what the whole conversion reports
// for it: the same errors and the same warnings.
func TestValidateMatchesConvert(t *testing.T) {
	for _, dir := range goldenCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s, snap := goldenInput(t, dir)
			reports := map[string]convert.Diagnostics{}
			for _, r := range s.Convert(snap).Reports {
				reports[r.Ingress.String()] = r.Diagnostics
			}
			ix := convert.NewIndex(snap)
			for _, ing := range snap.Ingresses {
				if !s.Ours(ing, ix) {
					continue
				}
				key := ing.Namespace + "/" + ing.Name
				got, want := messages(s.Validate(ing, ix)), messages(reports[key])
				if !slices.Equal(got, want) {
					t.Errorf("Ingress %s: Validate says\n%s\nConvert says\n%s", key, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

// messages lists a diagnostics' errors and warnings, sorted.
func messages(d convert.Diagnostics) []string {
	var out []string
	for _, e := range d.Errors {
		out = append(out, "error: "+e.Error())
	}
	for _, w := range d.Warnings {
		out = append(out, "warning: "+w.String())
	}
	slices.Sort(out)
	return out
}

// TestValidateFindsSharedMatchesAmongManyPaths: a repeated match is found
// whether it is among the first few paths or far down a long list, in the
// Ingress itself or against another Ingress on the host.
func TestValidateFindsSharedMatchesAmongManyPaths(t *testing.T) {
	paths := func(n int, extra ...networkingv1.HTTPIngressPath) []networkingv1.HTTPIngressPath {
		var out []networkingv1.HTTPIngressPath
		for i := range n {
			out = append(out, path(fmt.Sprintf("/p%d", i), exact, backend("web", 80)))
		}
		return append(out, extra...)
	}
	for _, tc := range []struct {
		name   string
		own    []networkingv1.HTTPIngressPath
		others []networkingv1.HTTPIngressPath
		want   bool
	}{
		{"few paths, none shared", paths(3), nil, false},
		{"few paths, one repeated", paths(3, path("/p1", exact, backend("other", 80))), nil, true},
		{"many paths, one repeated far down", paths(40, path("/p33", exact, backend("other", 80))), nil, true},
		{"many paths, none shared", paths(40), paths(0, path("/q", exact, backend("other", 80))), false},
		{"many paths, one shared with another Ingress", paths(40), paths(0, path("/p37", exact, backend("other", 80))), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ing := ingress("a", "own", 1, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("a.example.com", tc.own...)}})
			ings := []*networkingv1.Ingress{ing}
			if tc.others != nil {
				ings = append(ings, ingress("a", "other", 0, networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("a.example.com", tc.others...)}}))
			}
			d := convert.DefaultSettings().Validate(ing, convert.NewIndex(convert.Snapshot{Ingresses: ings}))
			got := slices.ContainsFunc(d.Warnings, func(w convert.Warning) bool {
				return strings.Contains(w.Message, "gets no traffic") || strings.Contains(w.Message, "wins")
			})
			if got != tc.want {
				t.Errorf("a shared match reported: %v, want %v (%v)", got, tc.want, d.Warnings)
			}
		})
	}
}
