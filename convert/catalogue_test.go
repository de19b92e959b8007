package convert

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNginxCatalogueIsTheRelease compares the catalogue with the names of
// ingress-nginx's last release kept in testdata: none missing, none extra.
func TestNginxCatalogueIsTheRelease(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "nginx-annotations.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# ingress-nginx "+nginxRelease+" ") {
		t.Fatalf("testdata/nginx-annotations.txt must start with a header naming release %s: %q", nginxRelease, sc.Text())
	}
	var release []string
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			release = append(release, line)
		}
	}
	var catalogue []string
	for e := range NginxAnnotations() {
		catalogue = append(catalogue, e.Name)
	}
	for _, n := range release {
		if !slices.Contains(catalogue, n) {
			t.Errorf("%s%s of %s is missing from the catalogue", NginxPrefix, n, nginxRelease)
		}
	}
	for _, n := range catalogue {
		if !slices.Contains(release, n) {
			t.Errorf("the catalogue has %s%s, which %s does not", NginxPrefix, n, nginxRelease)
		}
	}
}

// TestNginxCatalogueIsWellFormed checks what the messages and the README
// table rely on: names in order and unique, references to existing
// entries, every text filled in and free of table separators, and every
// refused head with an alternative.
func TestNginxCatalogueIsWellFormed(t *testing.T) {
	for i, e := range nginxCatalogue {
		if i > 0 && nginxCatalogue[i-1].Name >= e.Name {
			t.Errorf("%s: after %s; keep the catalogue in name order, without duplicates", e.Name, nginxCatalogue[i-1].Name)
		}
		if !slices.Contains([]Answer{Translated, Refused, Ignored}, e.Answer) {
			t.Errorf("%s: answer %q", e.Name, e.Answer)
		}
		for _, ref := range []string{e.With, e.AliasOf} {
			if _, ok := lookupNginx(ref); ref != "" && !ok {
				t.Errorf("%s: refers to %s, which is not in the catalogue", e.Name, ref)
			}
		}
		if head, ok := lookupNginx(e.With); ok && head.Answer == Refused && e.Answer != Refused {
			t.Errorf("%s: goes with refused %s but is %s; it would be reported with it as refused", e.Name, e.With, e.Answer)
		}
		for what, text := range map[string]string{"Nginx": e.Nginx, "Istio": e.Istio, "Difference": e.Difference} {
			if text == "" || strings.ContainsAny(text, "|\n") {
				t.Errorf("%s: %s text %q: want one line without |", e.Name, what, text)
			}
		}
	}
}

// readmeSection returns the lines of README.md's section title.
func readmeSection(t *testing.T, title string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return strings.Split(rest, "\n")
}

// readmeRow is an nginx annotation's row of the README's table.
func readmeRow(e NginxAnnotation) string {
	answer := string(e.Answer)
	if e.With != "" {
		answer += fmt.Sprintf(", with `%s`", e.With)
	}
	if e.AliasOf != "" {
		answer += fmt.Sprintf(", old name of `%s`", e.AliasOf)
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s |", e.Name, answer, e.Nginx, e.Istio, e.Difference)
}

// controllerRow is another controller's row of the README's table.
func controllerRow(c controllerInfo) string {
	keys := make([]string, len(c.keys))
	for i, k := range c.keys {
		keys[i] = "`" + k + "`"
	}
	return fmt.Sprintf("| %s | %s |", c.name, strings.Join(keys, ", "))
}

// TestREADMEAnnotationTables checks that README.md's section "Annotations
// of other controllers" lists exactly the catalogue, with the same
// answers and texts, and exactly the other controllers ingressguard
// recognises. On failure it prints the tables to paste.
func TestREADMEAnnotationTables(t *testing.T) {
	lines := readmeSection(t, "## Annotations of other controllers")
	var nginxRows, controllerRows []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "| `"):
			nginxRows = append(nginxRows, l)
		case strings.HasPrefix(l, "| ") && strings.HasSuffix(l, "` |") && !strings.HasPrefix(l, "| `"):
			controllerRows = append(controllerRows, l)
		}
	}
	var wantNginx, wantControllers []string
	for e := range NginxAnnotations() {
		wantNginx = append(wantNginx, readmeRow(e))
	}
	for _, c := range otherControllers {
		wantControllers = append(wantControllers, controllerRow(c))
	}
	for _, tc := range []struct {
		what      string
		got, want []string
	}{{"ingress-nginx annotations", nginxRows, wantNginx}, {"other controllers", controllerRows, wantControllers}} {
		if !slices.Equal(tc.got, tc.want) {
			for _, w := range tc.want {
				if !slices.Contains(tc.got, w) {
					t.Errorf("README.md's table of %s lacks or differs in:\n%s", tc.what, w)
				}
			}
			for _, g := range tc.got {
				if !slices.Contains(tc.want, g) {
					t.Errorf("README.md's table of %s has a row the code does not:\n%s", tc.what, g)
				}
			}
			t.Logf("the table of %s, as the code has it:\n%s", tc.what, strings.Join(tc.want, "\n"))
		}
	}
}
