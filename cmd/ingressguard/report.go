package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingressguard/ingressguard/convert"
)

// diagnosticsHelp describes the lines runReport.writeProblems prints.
const diagnosticsHelp = `Each problem is one line:

  FILE: Ingress NAMESPACE/NAME: FIELD: Invalid value: "VALUE": why, and the fix
  FILE: Ingress NAMESPACE/NAME: warning: FIELD: message

Lines without "warning:" are errors: the API server would reject the Ingress
once ingressguard's webhook runs, and Istio would not serve that part of it.
FILE is the file the Ingress was read from, "-" for standard input and
"cluster" for Ingresses read from the API server.`

// runReport is what check reports, in the order the Ingresses were read;
// check -o json prints it as it is (README, "Migration report").
type runReport struct {
	// Ingresses has one entry per Ingress of ours, including those of a
	// class treated as Istio's.
	Ingresses []ingressReport `json:"ingresses"`
	// Annotations counts, for each annotation of another ingress
	// controller and each answer it got, the Ingresses that carry it: most
	// Ingresses first, then by annotation and answer.
	Annotations []annotationCount `json:"annotations"`
	// NotOurs lists the Ingresses that were not checked, sorted.
	NotOurs []objectRef `json:"notOurs"`
	Summary summary     `json:"summary"`
}

// ingressReport is what check says about one Ingress.
type ingressReport struct {
	// Source is the file it was read from, "-" for standard input and
	// "cluster" for the API server.
	Source    string `json:"source"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Class is the name of its class (convert.ClassOf), "" when it has none.
	Class string `json:"class"`
	// AsClass says that its class is one of --as-class.
	AsClass bool `json:"asClass"`
	// Annotations are its annotations of other ingress controllers by
	// answer: the keys translated, refused and ignored are always
	// present, each list sorted.
	Annotations map[convert.Answer][]string `json:"annotations"`
	Errors      []problem                   `json:"errors"`
	Warnings    []problem                   `json:"warnings"`
}

// problem is an error or a warning: the text line is "FIELD: MESSAGE".
type problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// annotationCount is one row of the summary table of annotations.
type annotationCount struct {
	Annotation string         `json:"annotation"`
	Answer     convert.Answer `json:"answer"`
	Ingresses  int            `json:"ingresses"`
}

// objectRef names a namespaced object.
type objectRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// summary are the totals of a run.
type summary struct {
	Ingresses int `json:"ingresses"`
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
}

// line is the closing line, such as "3 Ingresses checked, 1 error, 0 warnings".
func (c summary) line(verb string) string {
	return fmt.Sprintf("%s %s, %s, %s", plural(c.Ingresses, "Ingress", "Ingresses"), verb,
		plural(c.Errors, "error", "errors"), plural(c.Warnings, "warning", "warnings"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// answers are the answers of convert.AnnotationAnswer, in report order.
var answers = []convert.Answer{convert.Translated, convert.Refused, convert.Ignored}

// newRunReport gathers the report of a run with settings s.
func newRunReport(cv converted, s convert.Settings) runReport {
	sources := map[types.NamespacedName]string{}
	objects := map[types.NamespacedName]*networkingv1.Ingress{}
	order := map[types.NamespacedName]int{}
	for i, d := range cv.in.docs {
		if ing, ok := d.Object.(*networkingv1.Ingress); ok {
			k := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
			sources[k], objects[k], order[k] = d.Source, ing, i
		}
	}
	reports := slices.Clone(cv.res.Reports)
	sort.SliceStable(reports, func(i, j int) bool { return order[reports[i].Ingress] < order[reports[j].Ingress] })
	r := runReport{Ingresses: make([]ingressReport, 0, len(reports)), NotOurs: make([]objectRef, 0, len(cv.res.Ignored))}
	carriers := map[annotationCount]int{} // by annotation and answer
	for _, rep := range reports {
		ing := objects[rep.Ingress]
		class, _ := convert.ClassOf(ing, cv.classes)
		_, as := s.AsClass(ing, cv.classes)
		ir := ingressReport{
			Source: sources[rep.Ingress], Namespace: rep.Ingress.Namespace, Name: rep.Ingress.Name,
			Class: class, AsClass: as, Annotations: byAnswer(ing),
			Errors: make([]problem, 0, len(rep.Errors)), Warnings: make([]problem, 0, len(rep.Warnings)),
		}
		for a, keys := range ir.Annotations {
			for _, k := range keys {
				carriers[annotationCount{Annotation: k, Answer: a}]++
			}
		}
		for _, e := range rep.Errors {
			ir.Errors = append(ir.Errors, problem{Field: e.Field, Message: e.ErrorBody()})
		}
		for _, w := range rep.Warnings {
			ir.Warnings = append(ir.Warnings, problem{Field: w.Field, Message: w.Message})
		}
		r.Ingresses = append(r.Ingresses, ir)
		r.Summary.Errors += len(ir.Errors)
		r.Summary.Warnings += len(ir.Warnings)
	}
	r.Summary.Ingresses = len(r.Ingresses)
	r.Annotations = make([]annotationCount, 0, len(carriers))
	for c, n := range carriers {
		c.Ingresses = n
		r.Annotations = append(r.Annotations, c)
	}
	sort.Slice(r.Annotations, func(i, j int) bool {
		a, b := r.Annotations[i], r.Annotations[j]
		if a.Ingresses != b.Ingresses {
			return a.Ingresses > b.Ingresses
		}
		if a.Annotation != b.Annotation {
			return a.Annotation < b.Annotation
		}
		return a.Answer < b.Answer
	})
	for _, k := range cv.res.Ignored {
		r.NotOurs = append(r.NotOurs, objectRef{Namespace: k.Namespace, Name: k.Name})
	}
	return r
}

// byAnswer groups the annotations of ing that have an answer there
// (convert.AnnotationAnswerOn) by it, each group sorted; every answer has
// a group, empty or not.
func byAnswer(ing *networkingv1.Ingress) map[convert.Answer][]string {
	groups := make(map[convert.Answer][]string, len(answers))
	for _, a := range answers {
		groups[a] = []string{}
	}
	for k := range ing.Annotations {
		if a, ok := convert.AnnotationAnswerOn(k, ing.Annotations); ok {
			groups[a] = append(groups[a], k)
		}
	}
	for _, keys := range groups {
		sort.Strings(keys)
	}
	return groups
}

// prefix begins each line about ir.
func (ir ingressReport) prefix() string {
	return fmt.Sprintf("%s: Ingress %s/%s: ", ir.Source, ir.Namespace, ir.Name)
}

// writeProblems writes every error and warning, one per line.
func (r runReport) writeProblems(w io.Writer) error {
	for _, ir := range r.Ingresses {
		if err := ir.writeProblems(w); err != nil {
			return err
		}
	}
	return nil
}

// writeProblems writes the errors and warnings of ir, one per line.
func (ir ingressReport) writeProblems(w io.Writer) error {
	p := ir.prefix()
	for _, e := range ir.Errors {
		if _, err := fmt.Fprintf(w, "%s%s: %s\n", p, e.Field, e.Message); err != nil {
			return err
		}
	}
	for _, wa := range ir.Warnings {
		if _, err := fmt.Fprintf(w, "%swarning: %s: %s\n", p, wa.Field, wa.Message); err != nil {
			return err
		}
	}
	return nil
}

// writeText writes the text report of check: for each Ingress its
// problems, after its annotations of other controllers by answer when
// migration is set; then, when migration is set and an Ingress has such
// annotations, the table of them; then the summary line.
func (r runReport) writeText(w io.Writer, migration bool) error {
	for _, ir := range r.Ingresses {
		for _, a := range answers {
			if keys := ir.Annotations[a]; migration && len(keys) > 0 {
				if _, err := fmt.Fprintf(w, "%sannotations %s: %s\n", ir.prefix(), a, strings.Join(keys, ", ")); err != nil {
					return err
				}
			}
		}
		if err := ir.writeProblems(w); err != nil {
			return err
		}
	}
	if migration && len(r.Annotations) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprint(tw, "\nANNOTATION\tANSWER\tINGRESSES\n")
		for _, c := range r.Annotations {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Annotation, c.Answer, c.Ingresses)
		}
		fmt.Fprintln(tw)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, r.Summary.line("checked"))
	return err
}

// writeJSON writes r as one indented JSON document.
func (r runReport) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// treatedAs returns a note counting, for each class of --as-class, the
// Ingresses of that class that are checked as Istio's, or one saying that
// no Ingress is of such a class.
func treatedAs(s convert.Settings, ingresses []*networkingv1.Ingress, classes convert.Classes) []string {
	if len(s.AsClasses) == 0 {
		return nil
	}
	byClass := map[string]int{}
	for _, ing := range ingresses {
		if name, ok := s.AsClass(ing, classes); ok {
			byClass[name]++
		}
	}
	if len(byClass) == 0 {
		return []string{fmt.Sprintf("no Ingress is of class %s (--as-class)", strings.Join(s.AsClasses, " or "))}
	}
	notes := make([]string, 0, len(byClass))
	for _, name := range slices.Sorted(maps.Keys(byClass)) {
		notes = append(notes, fmt.Sprintf("checking %s of class %s as Istio's (--as-class)",
			plural(byClass[name], "Ingress", "Ingresses"), name))
	}
	return notes
}

// notOurs returns a note for each Ingress of the files that conversion
// ignored, saying why, and one note counting those of the cluster.
func notOurs(s convert.Settings, in *input, classes convert.Classes, ignored []types.NamespacedName, readCluster bool) []string {
	if len(ignored) == 0 {
		return nil
	}
	skip := make(map[types.NamespacedName]bool, len(ignored))
	for _, k := range ignored {
		skip[k] = true
	}
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
