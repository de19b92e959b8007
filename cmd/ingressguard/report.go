package main

import (
	"fmt"
	"io"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingressguard/ingressguard/convert"
)

// diagnosticsHelp describes the lines writeDiagnostics prints.
const diagnosticsHelp = `Each problem is one line:

  FILE: Ingress NAMESPACE/NAME: FIELD: Invalid value: "VALUE": why, and the fix
  FILE: Ingress NAMESPACE/NAME: warning: FIELD: message

Lines without "warning:" are errors: the API server would reject the Ingress
once ingressguard's webhook runs, and Istio would not serve that part of it.
FILE is the file the Ingress was read from, "-" for standard input and
"cluster" for Ingresses read from the API server.`

// counts are the totals of a run's diagnostics.
type counts struct {
	ingresses, errors, warnings int
}

// summary is the closing line, such as "3 Ingresses checked, 1 error, 0 warnings".
func (c counts) summary(verb string) string {
	return fmt.Sprintf("%s %s, %s, %s", plural(c.ingresses, "Ingress", "Ingresses"), verb,
		plural(c.errors, "error", "errors"), plural(c.warnings, "warning", "warnings"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// writeDiagnostics writes every error and warning of res, one per line, in
// the order the Ingresses were read.
func writeDiagnostics(w io.Writer, res *convert.Result, in *input) (counts, error) {
	sources := map[types.NamespacedName]string{}
	order := map[types.NamespacedName]int{}
	for i, d := range in.docs {
		if ing, ok := d.Object.(*networkingv1.Ingress); ok {
			k := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
			sources[k], order[k] = d.Source, i
		}
	}
	reports := append([]convert.Report(nil), res.Reports...)
	sort.SliceStable(reports, func(i, j int) bool { return order[reports[i].Ingress] < order[reports[j].Ingress] })
	c := counts{ingresses: len(reports)}
	for _, r := range reports {
		prefix := fmt.Sprintf("%s: Ingress %s: ", sources[r.Ingress], r.Ingress)
		for _, e := range r.Errors {
			if _, err := fmt.Fprintln(w, prefix+e.Error()); err != nil {
				return c, err
			}
		}
		for _, wa := range r.Warnings {
			if _, err := fmt.Fprintln(w, prefix+"warning: "+wa.String()); err != nil {
				return c, err
			}
		}
		c.errors += len(r.Errors)
		c.warnings += len(r.Warnings)
	}
	return c, nil
}

// notOurs returns a note for each Ingress of the files that conversion
// ignored, saying why, and one note counting those of the cluster.
func notOurs(s convert.Settings, in *input, snap convert.Snapshot, ignored []types.NamespacedName, readCluster bool) []string {
	if len(ignored) == 0 {
		return nil
	}
	skip := make(map[types.NamespacedName]bool, len(ignored))
	for _, k := range ignored {
		skip[k] = true
	}
	classes := convert.NewIndex(snap)
	var notes []string
	inCluster := 0
	for _, d := range in.docs {
		ing, ok := d.Object.(*networkingv1.Ingress)
		if !ok || !skip[types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}] {
			continue
		}
		if d.Source == clusterSource {
			inCluster++
			continue
		}
		_, why := s.WhyOurs(ing, classes)
		if name := ing.Spec.IngressClassName; name != nil && !readCluster {
			if _, ok := classes.IngressClass(*name); !ok {
				why += "; give its manifest with -f, or read the cluster with --cluster"
			}
		}
		notes = append(notes, fmt.Sprintf("Ingress %s/%s is not ours (%s)", ing.Namespace, ing.Name, why))
	}
	if inCluster > 0 {
		verb := "are"
		if inCluster == 1 {
			verb = "is"
		}
		notes = append(notes, fmt.Sprintf("%s in the cluster %s not ours (another controller's class, or no class in %s mode)",
			plural(inCluster, "Ingress", "Ingresses"), verb, s.Mode))
	}
	return notes
}
