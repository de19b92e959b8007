// Package layout checks that README.md's "Repository layout" table tells
// the truth: every Go package belongs to one of its rows, and imports of
// our own packages go only where the table says, so that dependencies
// point one way, toward convert.
package layout

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ingressguard/ingressguard"

// row is one folder of the table and the folders it may import.
type row struct {
	folder  string   // "convert/", "cmd/ingressguard/"
	allowed []string // folders of other rows
}

var backticked = regexp.MustCompile("`([^`]+)`")

// table reads the layout table from README.md. A row's last column names
// the rows it may import in backticks, "none", or "all of the above" /
// "the product packages" for every row above it; every row may import
// internal/, as the text above the table says.
func table(t *testing.T, readme string) []row {
	t.Helper()
	_, after, ok := strings.Cut(readme, "\n## Repository layout\n")
	if !ok {
		t.Fatal(`README.md has no "## Repository layout" section`)
	}
	var rows []row
	for _, line := range strings.Split(after, "\n") {
		if strings.HasPrefix(line, "## ") {
			break
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 || !strings.HasPrefix(cells[0], "`") {
			continue
		}
		r := row{folder: strings.Trim(cells[0], "`")}
		imports := cells[2]
		switch {
		case strings.Contains(imports, "above"), strings.Contains(imports, "product packages"):
			for _, above := range rows {
				r.allowed = append(r.allowed, above.folder)
			}
		default:
			for _, m := range backticked.FindAllStringSubmatch(imports, -1) {
				r.allowed = append(r.allowed, m[1])
			}
		}
		rows = append(rows, r)
	}
	if len(rows) < 5 {
		t.Fatalf("found %d rows in the layout table; is it still a table of folder | what | imports of ours?", len(rows))
	}
	return rows
}

// rowOf returns the row whose folder holds dir (slash-separated, relative
// to the repository root), the longest match.
func rowOf(rows []row, dir string) (row, bool) {
	var best row
	found := false
	for _, r := range rows {
		if strings.HasPrefix(dir+"/", r.folder) && len(r.folder) > len(best.folder) {
			best, found = r, true
		}
	}
	return best, found
}

// allows reports whether r may import a package in dir.
func (r row) allows(rows []row, dir string) bool {
	target, ok := rowOf(rows, dir)
	if !ok {
		return false
	}
	if target.folder == r.folder || target.folder == "internal/" {
		return true
	}
	for _, a := range r.allowed {
		if a == strings.TrimSuffix(target.folder, "/") || a == target.folder || strings.HasPrefix(dir+"/", strings.TrimSuffix(a, "/")+"/") {
			return true
		}
	}
	return false
}

func TestLayoutTableMatchesImports(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := table(t, string(readme))
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(rel)
		r, ok := rowOf(rows, dir)
		if !ok {
			t.Errorf("%s: folder %s has no row in README.md's layout table", filepath.ToSlash(filepath.Join(rel, d.Name())), dir)
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			ip, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			target, ours := strings.CutPrefix(ip, module+"/")
			if !ours {
				continue
			}
			if !r.allows(rows, target) {
				t.Errorf("%s imports %s, but README.md's layout table lets %s import only %v (and internal/)",
					path.Join(dir, d.Name()), target, r.folder, r.allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConvertIsPure: convert imports no package of ours, no API client
// and no controller-runtime, as its package documentation says.
func TestConvertIsPure(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("../../convert/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(ip, module) || slices.ContainsFunc([]string{"sigs.k8s.io/controller-runtime", "k8s.io/client-go"}, func(s string) bool { return strings.HasPrefix(ip, s) }) {
				t.Errorf("convert/%s imports %s; convert must stay pure", filepath.Base(p), ip)
			}
		}
	}
}
