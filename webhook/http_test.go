package webhook_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
	"github.com/ingressguard/ingressguard/webhook"
)

// unsynced is a cluster whose state is still loading, as lookup.Informers is
// right after start.
type unsynced struct{ *convert.Index }

func (unsynced) Synced() bool { return false }

// server serves both handlers over TLS, as the manager does.
func server(t *testing.T, c convert.View) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for path, h := range webhook.Handlers(convert.DefaultSettings(), c) {
		mux.Handle(path, h)
	}
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// reviewJSON is an AdmissionReview whose request is the given JSON.
func reviewJSON(request string) string {
	return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":` + request + `}`
}

const (
	ingressKindJSON = `"kind":{"group":"networking.k8s.io","version":"v1","kind":"Ingress"},"resource":{"group":"networking.k8s.io","version":"v1","resource":"ingresses"}`
	seedJSON        = `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ingress","namespace":"default","annotations":{"kubernetes.io/ingress.class":"istio"}},"spec":{"rules":[{"host":"httpbin.example.com","http":{"paths":[{"path":"/status","pathType":"Prefix","backend":{"service":{"name":"httpbin","port":{"number":8000}}}}]}}]}}`
)

// TestMalformedReviews sends hostile AdmissionReviews to both webhooks over
// HTTPS: each gets an answer that refuses it with a 4xx code and says why,
// never a panic or a dropped connection.
func TestMalformedReviews(t *testing.T) {
	oversized := reviewJSON(`{"uid":"big",` + ingressKindJSON + `,"operation":"CREATE","object":{"metadata":{"name":"` +
		strings.Repeat("a", 7<<20) + `"}}}`)

	for _, tc := range []struct {
		name        string
		cluster     convert.View
		contentType string
		body        string
		wantCode    int32
		wantMessage string
		wantReason  string // ingressguard_admission_requests_total reason of the error
	}{{
		name:     "well-formed review (baseline)",
		body:     reviewJSON(`{"uid":"ok",` + ingressKindJSON + `,"operation":"CREATE","object":` + seedJSON + `}`),
		wantCode: http.StatusOK,
	}, {
		name:        "empty body",
		body:        "",
		wantCode:    http.StatusBadRequest,
		wantMessage: "request body is empty",
		wantReason:  "bad-review",
	}, {
		name:        "invalid JSON",
		body:        `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{`,
		wantCode:    http.StatusBadRequest,
		wantMessage: "unexpected end of JSON input",
		wantReason:  "bad-review",
	}, {
		name:        "not JSON",
		contentType: "text/plain",
		body:        "hello",
		wantCode:    http.StatusBadRequest,
		wantMessage: "expected application/json",
		wantReason:  "bad-review",
	}, {
		name:        "oversized body",
		body:        oversized,
		wantCode:    http.StatusRequestEntityTooLarge,
		wantMessage: "request entity is too large; limit is 7340032 bytes",
		wantReason:  "bad-review",
	}, {
		name:        "wrong kind",
		body:        reviewJSON(`{"uid":"pod","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: `ingressguard admits only networking.k8s.io/v1 Ingresses, but was sent v1 Pod (resource v1 pods)`,
		wantReason:  "wrong-kind",
	}, {
		name:        "no kind at all",
		body:        reviewJSON(`{"uid":"nokind","operation":"CREATE","object":` + seedJSON + `}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: `but was sent an empty kind (resource none)`,
		wantReason:  "wrong-kind",
	}, {
		name:        "status subresource",
		body:        reviewJSON(`{"uid":"status",` + ingressKindJSON + `,"subResource":"status","operation":"UPDATE","object":` + seedJSON + `}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: `but was sent networking.k8s.io/v1 Ingress (resource networking.k8s.io/v1 ingresses/status)`,
		wantReason:  "wrong-kind",
	}, {
		name:        "Ingress review carrying a Pod",
		body:        reviewJSON(`{"uid":"podobj",` + ingressKindJSON + `,"operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: "request.object is not a valid networking.k8s.io/v1 Ingress",
		wantReason:  "undecodable",
	}, {
		name:        "Ingress review carrying an IngressClass",
		body:        reviewJSON(`{"uid":"classobj",` + ingressKindJSON + `,"operation":"CREATE","object":{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"istio"}}}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: "request.object is a networking.k8s.io/v1 IngressClass, not a networking.k8s.io/v1 Ingress",
		wantReason:  "wrong-kind",
	}, {
		name:        "missing object",
		body:        reviewJSON(`{"uid":"noobj",` + ingressKindJSON + `,"operation":"CREATE"}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: "the AdmissionReview for CREATE has no request.object",
		wantReason:  "missing-object",
	}, {
		name:        "null object",
		body:        reviewJSON(`{"uid":"nullobj",` + ingressKindJSON + `,"operation":"UPDATE","object":null}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: "the AdmissionReview for UPDATE has no request.object",
		wantReason:  "missing-object",
	}, {
		name:        "object is a number",
		body:        reviewJSON(`{"uid":"num",` + ingressKindJSON + `,"operation":"CREATE","object":42}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: "request.object is not a valid networking.k8s.io/v1 Ingress",
		wantReason:  "undecodable",
	}, {
		name:        "spec of the wrong type",
		body:        reviewJSON(`{"uid":"spec",` + ingressKindJSON + `,"operation":"CREATE","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"x"},"spec":"everything"}}`),
		wantCode:    http.StatusBadRequest,
		wantMessage: "request.object is not a valid networking.k8s.io/v1 Ingress",
		wantReason:  "undecodable",
	}, {
		name:        "cluster state not loaded yet",
		cluster:     unsynced{cluster()},
		body:        reviewJSON(`{"uid":"early",` + ingressKindJSON + `,"operation":"CREATE","object":` + seedJSON + `}`),
		wantCode:    http.StatusServiceUnavailable,
		wantMessage: "ingressguard is still loading IngressClasses, Services, Ingresses, Secrets and Certificates from the API server; retry in a few seconds",
		wantReason:  "not-synced",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cluster
			if c == nil {
				c = cluster()
			}
			srv := server(t, c)
			contentType := tc.contentType
			if contentType == "" {
				contentType = "application/json"
			}
			for _, hook := range []struct{ name, path string }{{"mutate", webhook.MutatePath}, {"validate", webhook.ValidatePath}} {
				before := counted(t, hook.name, "error", tc.wantReason)
				resp, err := srv.Client().Post(srv.URL+hook.path, contentType, bytes.NewBufferString(tc.body))
				if err != nil {
					t.Fatalf("%s: %v", hook.name, err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("%s: reading the answer: %v", hook.name, err)
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: HTTP status %d, want 200 with the verdict in the review: %s", hook.name, resp.StatusCode, body)
				}
				var review admissionv1.AdmissionReview
				if err := json.Unmarshal(body, &review); err != nil || review.Response == nil {
					t.Fatalf("%s: answer is not an AdmissionReview (%v): %s", hook.name, err, body)
				}
				r := review.Response
				if r.Result == nil || r.Result.Code != tc.wantCode {
					t.Fatalf("%s: result %+v, want code %d", hook.name, r.Result, tc.wantCode)
				}
				if r.Allowed != (tc.wantCode == http.StatusOK) {
					t.Errorf("%s: allowed = %v with code %d", hook.name, r.Allowed, tc.wantCode)
				}
				if !strings.Contains(r.Result.Message, tc.wantMessage) {
					t.Errorf("%s: message %q does not say %q", hook.name, r.Result.Message, tc.wantMessage)
				}
				if tc.wantReason != "" {
					if d := counted(t, hook.name, "error", tc.wantReason) - before; d != 1 {
						t.Errorf("%s: ingressguard_admission_requests_total{result=error,reason=%s} grew by %v, want 1", hook.name, tc.wantReason, d)
					}
				}
			}
		})
	}
}

// TestRequestLog: what a handler logs about a request carries the
// request's identity, as controller-runtime's request loggers do, although
// those values are now made only when a line is logged.
func TestRequestLog(t *testing.T) {
	var out envtest.Logs
	logf.SetLogger(zap.New(zap.WriteTo(&out)))
	t.Cleanup(func() { logf.SetLogger(logr.Discard()) })
	srv := server(t, convert.NewIndex(convert.Snapshot{}))
	// A Pod sent to the Ingress webhook is refused, and that is logged at
	// info level.
	body := reviewJSON(`{"uid":"req-7","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"namespace":"shop","name":"web","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod"}}`)
	resp, err := srv.Client().Post(srv.URL+webhook.ValidatePath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	logged := out.String()
	var line map[string]any
	for dec := json.NewDecoder(strings.NewReader(logged)); dec.More(); {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["msg"] == "refused an admission request" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no line says the request was refused; logged:\n%s", logged)
	}
	for k, want := range map[string]any{
		"requestID": "req-7", "user": "alice", "namespace": "shop", "name": "web", "reason": "wrong-kind",
		"object":   map[string]any{"name": "web", "namespace": "shop"},
		"resource": map[string]any{"group": "", "version": "v1", "resource": "pods"},
	} {
		got, _ := json.Marshal(line[k])
		w, _ := json.Marshal(want)
		if !bytes.Equal(got, w) {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
}
