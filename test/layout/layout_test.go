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

// walkFiles calls visit with every file below root and its folder,
// slash-separated and relative to root ("." for root itself), skipping
// hidden folders and testdata.
func walkFiles(root string, visit func(p, dir string) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		return visit(p, filepath.ToSlash(rel))
	})
}

// nestedModules finds the modules of their own below root (a folder with
// a go.mod, such as test/istio and hack/tools) and checks that each is
// named after its folder, so that its import paths map to folders as the
// main module's do, and that one requiring the main module replaces it
// with this repository, so that it tests the code beside it. It returns
// their folders, slash-separated and relative to root.
func nestedModules(t *testing.T, root string) []string {
	t.Helper()
	var mods []string
	err := walkFiles(root, func(p, dir string) error {
		if filepath.Base(p) != "go.mod" || dir == "." {
			return nil
		}
		mods = append(mods, dir)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var name string
		requires, replaced := false, false
		toRoot := strings.TrimSuffix(strings.Repeat("../", strings.Count(dir, "/")+1), "/")
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 2 && f[0] == "module":
				name = f[1]
			case len(f) >= 2 && f[len(f)-2] == module && !strings.Contains(line, "=>"):
				requires = true
			case len(f) >= 3 && slices.Contains(f, "=>") && (f[0] == module || (f[0] == "replace" && f[1] == module)):
				replaced = f[len(f)-1] == toRoot
			}
		}
		if name != module+"/"+dir {
			t.Errorf("%s/go.mod: module %q, want %q so that its import paths name its folders", dir, name, module+"/"+dir)
		}
		if requires && !replaced {
			t.Errorf("%s/go.mod requires %s but does not replace it with %s: it would test a published version, not this repository", dir, module, toRoot)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// TestLayoutTableMatchesImports checks every folder's Go files against the
// layout table: those of the main module without their tests (tests may
// reach further), and every file of a module of its own below it, whose
// code may be tests only (test/istio) and which the table covers too.
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
	nested := nestedModules(t, root)
	inNested := func(dir string) bool {
		return slices.ContainsFunc(nested, func(m string) bool { return strings.HasPrefix(dir+"/", m+"/") })
	}
	fset := token.NewFileSet()
	err = walkFiles(root, func(p, dir string) error {
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") && !inNested(dir) {
			return nil
		}
		r, ok := rowOf(rows, dir)
		if !ok {
			t.Errorf("%s: folder %s has no row in README.md's layout table", path.Join(dir, filepath.Base(p)), dir)
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
					path.Join(dir, filepath.Base(p)), target, r.folder, r.allowed)
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
