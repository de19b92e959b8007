package install_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ingressguard/ingressguard/test/envtest"
)

// Overlays admins apply, as folders under manifests/.
const (
	overlayDefault     = "default"
	overlayWebhookOnly = "webhook-only"
)

// repoRoot returns the repository root (the folder of go.mod).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := envtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// kubectlPath returns the kubectl that the envtest assets hold; its
// `kubectl kustomize` is the kustomize admins run with `kubectl apply -k`.
func kubectlPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(envtest.AssetsT(t), "kubectl")
}

// rendering is the output of `kubectl kustomize manifests/<overlay>`.
type rendering struct {
	yaml    string
	objects []*unstructured.Unstructured
}

// render runs `kubectl kustomize` on manifests/<overlay> and decodes the
// objects it prints.
func render(t testing.TB, kubectl, overlay string) *rendering {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "manifests", overlay)
	cmd := exec.CommandContext(t.Context(), kubectl, "kustomize", dir)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize manifests/%s: %v: %s", overlay, err, errOut.String())
	}
	r := &rendering{yaml: out.String()}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(r.yaml), 4096)
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decoding the rendering of manifests/%s: %v", overlay, err)
		}
		if obj != nil {
			r.objects = append(r.objects, &unstructured.Unstructured{Object: obj})
		}
	}
	return r
}

// find returns the rendered object of that kind and name, failing the test
// when there is none.
func (r *rendering) find(t testing.TB, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("the rendering has no %s %s", kind, name)
	return nil
}

// only returns the one rendered object of that kind.
func (r *rendering) only(t testing.TB, kind string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range r.objects {
		if o.GetKind() == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the rendering has %d objects of kind %s, want 1", len(found), kind)
	}
	return found[0]
}

// into converts a rendered object into a typed one.
func into(t testing.TB, u *unstructured.Unstructured, out any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		t.Fatalf("converting %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// contains fails the test unless s contains every one of want.
func contains(t testing.TB, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, s)
		}
	}
}

// writeFile writes data to dir/name, for a certificate folder.
func writeFile(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// background runs fn in a goroutine until the test ends, then cancels its
// context and waits for it; an error other than the cancellation fails the
// test.
func background(t testing.TB, what string, fn func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// must is t.Fatal for setup errors, with what was being done.
func must(t testing.TB, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}
