package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-logr/logr"
	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// logAll logs through l as the webhooks and controller-runtime do; both
// constructors are called from here, so the caller is the same line.
func logAll(ctor func(logr.Logger, *admission.Request) logr.Logger, base logr.Logger, req *admission.Request) {
	l := ctor(base, req)
	l.Info("decision", "result", "allowed", "warnings", 2)
	l.V(1).Info("debug", "reason", "valid")
	l.V(5).Info("hidden")
	l.Error(errors.New("boom"), "failed", "code", 500)
	l.WithValues("extra", true).WithName("child").V(1).Info("chained")
	l.WithCallDepth(0).Info("depth")
	ctor(base, nil).Info("no request")
}

// lines decodes JSON log lines, dropping the timestamp.
func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(b)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		delete(m, "ts")
		out = append(out, m)
	}
	return out
}

// TestLazyLogConstructor: the lazy constructor logs exactly what
// controller-runtime's default does, caller included.
func TestLazyLogConstructor(t *testing.T) {
	req := &admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "uid-1", Name: "web", Namespace: "team-a", Operation: admissionv1.Create,
		Kind: ingressKind, Resource: ingressResource,
		UserInfo: authenticationv1.UserInfo{Username: "alice"},
	}}
	var out [2]bytes.Buffer
	for i, ctor := range []func(logr.Logger, *admission.Request) logr.Logger{admission.DefaultLogConstructor, lazyLogConstructor} {
		base := zap.New(zap.WriteTo(&out[i]), zap.Level(zapcore.Level(-1)), zap.RawZapOpts(uberzap.AddCaller())).WithName("admission")
		logAll(ctor, base, req) // one line for both, as stack traces show it
	}
	w, g := lines(t, &out[0]), lines(t, &out[1])
	if len(w) != 6 {
		t.Fatalf("the default constructor logged %d lines, want 6: %v", len(w), w)
	}
	if len(g) != len(w) {
		t.Fatalf("lazy logged %d lines, default %d:\n%v\n%v", len(g), len(w), g, w)
	}
	for i := range w {
		wj, _ := json.Marshal(w[i])
		gj, _ := json.Marshal(g[i])
		if !bytes.Equal(wj, gj) {
			t.Errorf("line %d:\n got %s\nwant %s", i, gj, wj)
		}
	}
}
