package convert_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// goldenCases lists the folders under testdata/golden; each holds input.yaml,
// the expected output.yaml and the expected diagnostics.txt. A case whose
// name ends in "-default-mode" runs with --ingress-controller-mode=DEFAULT,
// one whose name ends in "-strict" after "certificate-use" with
// --certificate-use=strict.
func goldenCases(t testing.TB) []string {
	dirs, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	return dirs
}

// goldenInput reads one golden case's input and the settings it runs with.
func goldenInput(t testing.TB, dir string) (convert.Settings, convert.Snapshot) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs, _, err := manifest.Read("input.yaml", f)
	if err != nil {
		t.Fatal(err)
	}
	s := convert.DefaultSettings()
	if strings.HasSuffix(dir, "-default-mode") {
		s.Mode = convert.ModeDefault
	}
	if strings.HasSuffix(dir, "certificate-use-strict") {
		s.CertificateUse = convert.CertificateUseStrict
	}
	return s, convert.NewSnapshot(manifest.Objects(docs), s.GatewayNamespace)
}

// goldenOutput converts one golden case's input into its Istio YAML and its
// diagnostics text.
func goldenOutput(t testing.TB, dir string, shuffle *rand.Rand) (out, diags []byte) {
	s, snap := goldenInput(t, dir)
	if shuffle != nil {
		shuffle.Shuffle(len(snap.Ingresses), func(i, j int) { snap.Ingresses[i], snap.Ingresses[j] = snap.Ingresses[j], snap.Ingresses[i] })
	}
	res := s.Convert(snap)
	var buf bytes.Buffer
	if err := manifest.Write(&buf, res.Objects(), "yaml"); err != nil {
		t.Fatal(err)
	}
	var d strings.Builder
	for _, r := range res.Reports {
		for _, e := range r.Errors {
			fmt.Fprintf(&d, "Ingress %s: error: %s\n", r.Ingress, e.Error())
		}
		for _, w := range r.Warnings {
			fmt.Fprintf(&d, "Ingress %s: warning: %s\n", r.Ingress, w)
		}
	}
	for _, n := range res.Ignored {
		fmt.Fprintf(&d, "Ingress %s: not ours\n", n)
	}
	return buf.Bytes(), []byte(d.String())
}

// TestGolden converts every golden input and compares the Istio objects and
// the diagnostics with the expected files, byte for byte. Run with -update
// to rewrite them, then review the diff.
func TestGolden(t *testing.T) {
	for _, dir := range goldenCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out, diags := goldenOutput(t, dir, nil)
			for _, g := range []struct {
				file string
				got  []byte
			}{{"output.yaml", out}, {"diagnostics.txt", diags}} {
				path := filepath.Join(dir, g.file)
				if *update {
					if err := os.WriteFile(path, g.got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./convert -run TestGolden -update)", err)
				}
				if !bytes.Equal(g.got, want) {
					t.Errorf("%s differs from the expected output:\n--- got\n%s\n--- want\n%s", path, g.got, want)
				}
			}
		})
	}
}

// TestDeterministic checks that the order of the input does not change one
// byte of the output.
func TestDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, dir := range goldenCases(t) {
		out, diags := goldenOutput(t, dir, nil)
		for range 5 {
			out2, diags2 := goldenOutput(t, dir, r)
			if !bytes.Equal(out, out2) || !bytes.Equal(diags, diags2) {
				t.Fatalf("%s: output depends on input order", dir)
			}
		}
	}
}
