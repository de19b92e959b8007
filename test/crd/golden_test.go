// Package crd checks generated Istio objects against the real API server
// with Istio's CRDs installed.
package crd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ingressguard/ingressguard/test/envtest"
)

// TestGoldenOutputsAcceptedByCRDSchemas applies every golden output of the
// converter to a real kube-apiserver with Istio's CRDs, with strict field
// validation: an unknown or mistyped field fails the test.
func TestGoldenOutputsAcceptedByCRDSchemas(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	root, err := envtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := filepath.Glob(filepath.Join(root, "convert", "testdata", "golden", "*", "output.yaml"))
	if err != nil || len(outputs) == 0 {
		t.Fatalf("no golden outputs found: %v", err)
	}
	ctx := context.Background()
	for _, out := range outputs {
		t.Run(filepath.Base(filepath.Dir(out)), func(t *testing.T) {
			if data, err := os.ReadFile(out); err != nil {
				t.Fatal(err)
			} else if len(bytes.TrimSpace(data)) == 0 {
				t.Skip("nothing is generated: every Ingress of the case is refused")
			}
			stdout, stderr, err := env.Kubectl(ctx, "", "apply", "--server-side", "--dry-run=server", "--validate=strict",
				"--field-manager=ingressguard-test", "-f", out)
			if err != nil {
				t.Fatalf("the API server refused %s: %v\n%s%s", out, err, stdout, stderr)
			}
			if n := strings.Count(stdout, "serverside-applied"); n == 0 {
				t.Fatalf("kubectl applied nothing from %s:\n%s", out, stdout)
			}
		})
	}
	// The same strict apply refuses what the schema forbids, so the checks
	// above mean something.
	bad := `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: istio-system}
spec:
  hosts: [a.example.com]
  http:
  - match: [{uri: {exakt: /a}}]
    route: [{destination: {host: a}}]
`
	if stdout, _, err := env.Kubectl(ctx, bad, "apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", "-"); err == nil {
		t.Fatalf("a VirtualService with an unknown field was accepted:\n%s", stdout)
	}
}
