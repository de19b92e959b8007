package convert_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
