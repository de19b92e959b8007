package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/webhook"
)

// expect is what one webhook answers to a row of the matrix.
type expect struct {
	code    int32  // response.status.code; 200 for allowed
	message string // a part of the message
	patch   bool   // a JSON patch comes with the answer
}

// verdict is the part of an answer that the matrix compares.
type verdict struct {
	Allowed  bool
	Code     int32
	Message  string
	Patch    string
	Warnings []string
}

// post sends body to url as the API server does and returns the verdict
// in the AdmissionReview it gets back. A dropped connection, an HTTP
// status other than 200 or an answer that is not a review fails t.
func post(t *testing.T, c *http.Client, url, body string) verdict {
	t.Helper()
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP status %d, want 200 with the verdict in the review: %s", resp.StatusCode, out)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(out, &review); err != nil || review.Response == nil {
		t.Fatalf("answer is not an AdmissionReview (%v): %s", err, out)
	}
	r := review.Response
	v := verdict{Allowed: r.Allowed, Patch: string(r.Patch), Warnings: r.Warnings, Code: http.StatusOK}
	if r.Result != nil {
		v.Code, v.Message = r.Result.Code, r.Result.Message
		if v.Code == 0 {
			v.Code = http.StatusOK
		}
	}
	return v
}

// referenceServer serves both handlers with controller-runtime's own
// admission.Webhook, which decodes the review and then request.object
// with the API machinery's decoders: the answer ingressguard's one-pass
// decoding must give.
func referenceServer(t *testing.T, c convert.View) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(webhook.MutatePath, &admission.Webhook{Handler: webhook.NewMutator(convert.DefaultSettings(), c)})
	mux.Handle(webhook.ValidatePath, &admission.Webhook{Handler: webhook.NewValidator(convert.DefaultSettings(), c)})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// requestJSON is a request of the operation op on an Ingress, whose
// further fields (object, oldObject, dryRun...) are given as JSON.
func requestJSON(op, fields string) string {
	return `{"uid":"matrix",` + ingressKindJSON + `,"namespace":"default","name":"ingress","operation":"` + op + `"` + fields + `}`
}

// TestBadInputMatrix is the AdmissionReview part of the bad-input matrix.
// Each row is sent over TLS to both webhooks, and answered with an
// AdmissionReview: refused with a 4xx code that says why, or allowed. Rows
// marked sameAsControllerRuntime get the verdict (code, allowed, patch,
// warnings) that controller-runtime's admission.Webhook gives with the
// same handlers.
//
// Rows of the matrix tested elsewhere: a null object, an object that is a
// number, a Pod, an IngressClass, request.kind Pod and the status
// subresource (TestMalformedReviews); mutating twice (TestMutator applies
// each patch and runs again); an update with deletionTimestamp set and a
// missing Secret (TestValidator); the HTTP rows (gate_test.go).
func TestBadInputMatrix(t *testing.T) {
	noPathTypeJSON := strings.Replace(seedJSON, `"pathType":"Prefix",`, "", 1)
	if noPathTypeJSON == seedJSON {
		t.Fatal("seedJSON has no pathType to remove")
	}
	nginxJSON := strings.Replace(noPathTypeJSON, `"kubernetes.io/ingress.class":"istio"`, `"kubernetes.io/ingress.class":"nginx"`, 1)
	deep := strings.Replace(seedJSON, `"spec":{`, `"spec":{"future":`+strings.Repeat("[", 10_000)+strings.Repeat("]", 10_000)+`,`, 1)

	var paths []string
	for i := range 32_000 {
		paths = append(paths, fmt.Sprintf(`{"path":"/p%d","pathType":"Exact","backend":{"service":{"name":"httpbin","port":{"number":8000}}}}`, i))
	}
	manyPaths := strings.Replace(seedJSON, `"paths":[{"path":"/status","pathType":"Prefix","backend":{"service":{"name":"httpbin","port":{"number":8000}}}}]`,
		`"paths":[`+strings.Join(paths, ",")+`]`, 1)
	if manyPaths == seedJSON {
		t.Fatal("seedJSON has no paths to replace")
	}

	allowed := expect{code: http.StatusOK}
	patched := expect{code: http.StatusOK, patch: true}
	both := func(e expect) [2]expect { return [2]expect{e, e} }
	refused := func(message string) [2]expect {
		return both(expect{code: http.StatusBadRequest, message: message})
	}

	for _, tc := range []struct {
		name                    string
		body                    string
		want                    [2]expect // mutate, validate
		sameAsControllerRuntime bool
	}{{
		// admission.Webhook decodes into a type of its own, unknown to its
		// scheme, so it reads any apiVersion and kind and allows this;
		// ingressguard reads apiVersion and kind as the API machinery does
		// (case-insensitively, the last spelling winning) and admits v1
		// AdmissionReviews only.
		name: `review kind also spelled "Kind"`,
		body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","Kind":"Pod","request":` + requestJSON("CREATE", `,"object":`+noPathTypeJSON) + `}`,
		want: refused(`no kind "Pod" is registered for version "admission.k8s.io/v1"`),
	}, {
		name: `review apiVersion also spelled "APIVERSION"`,
		body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","APIVERSION":"v1","request":` + requestJSON("CREATE", `,"object":`+noPathTypeJSON) + `}`,
		want: refused(`no kind "AdmissionReview" is registered for version "v1"`),
	}, {
		name:                    `object kind also spelled "Kind"`,
		body:                    reviewJSON(requestJSON("CREATE", `,"object":`+strings.Replace(noPathTypeJSON, `"kind":"Ingress",`, `"kind":"Ingress","Kind":"IngressClass",`, 1))),
		want:                    refused("request.object is a networking.k8s.io/v1 IngressClass, not a networking.k8s.io/v1 Ingress"),
		sameAsControllerRuntime: true,
	}, {
		name:                    `duplicate "request" keys`,
		body:                    `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":` + requestJSON("CREATE", `,"object":`+nginxJSON) + `,"request":` + requestJSON("CREATE", `,"object":`+noPathTypeJSON) + `}`,
		want:                    [2]expect{patched, allowed},
		sameAsControllerRuntime: true,
	}, {
		name:                    `duplicate "object" keys`,
		body:                    reviewJSON(requestJSON("CREATE", `,"object":`+nginxJSON+`,"object":`+noPathTypeJSON)),
		want:                    [2]expect{patched, allowed},
		sameAsControllerRuntime: true,
	}, {
		name:                    "object is an array",
		body:                    reviewJSON(requestJSON("CREATE", `,"object":[`+seedJSON+`]`)),
		want:                    refused("request.object is not a valid networking.k8s.io/v1 Ingress"),
		sameAsControllerRuntime: true,
	}, {
		name:                    `oldObject {"a":} on an UPDATE`,
		body:                    reviewJSON(requestJSON("UPDATE", `,"object":`+seedJSON+`,"oldObject":{"a":}`)),
		want:                    refused("invalid character '}'"),
		sameAsControllerRuntime: true,
	}, {
		name:                    "oldObject a string on an UPDATE: judged as a create",
		body:                    reviewJSON(requestJSON("UPDATE", `,"object":`+noPathTypeJSON+`,"oldObject":"garbage"`)),
		want:                    [2]expect{patched, allowed},
		sameAsControllerRuntime: true,
	}, {
		name:                    "trailing data after the JSON",
		body:                    reviewJSON(requestJSON("CREATE", `,"object":`+seedJSON)) + ` {"request":null}`,
		want:                    refused("invalid character '{' after top-level value"),
		sameAsControllerRuntime: true,
	}, {
		name:                    "UTF-8 BOM before the JSON",
		body:                    "\ufeff" + reviewJSON(requestJSON("CREATE", `,"object":`+noPathTypeJSON)),
		want:                    [2]expect{patched, allowed}, // read as YAML, which skips the BOM
		sameAsControllerRuntime: true,
	}, {
		name:                    "invalid UTF-8 inside a string",
		body:                    reviewJSON(requestJSON("CREATE", `,"object":`+strings.Replace(noPathTypeJSON, `"name":"ingress"`, "\"name\":\"ingr\xff\xfeess\"", 1))),
		want:                    [2]expect{patched, allowed},
		sameAsControllerRuntime: true,
	}, {
		name:                    "10,000-deep nesting of arrays inside the object",
		body:                    reviewJSON(requestJSON("CREATE", `,"object":`+deep)),
		want:                    refused("exceeded max depth"),
		sameAsControllerRuntime: true,
	}, {
		name:                    "port number 1e400",
		body:                    reviewJSON(requestJSON("CREATE", `,"object":`+strings.Replace(seedJSON, `"number":8000`, `"number":1e400`, 1))),
		want:                    refused("request.object is not a valid networking.k8s.io/v1 Ingress"),
		sameAsControllerRuntime: true,
	}, {
		name:                    "DELETE: allowed, no patch",
		body:                    reviewJSON(requestJSON("DELETE", `,"oldObject":`+noPathTypeJSON)),
		want:                    both(allowed),
		sameAsControllerRuntime: true,
	}, {
		name:                    "CONNECT: allowed, no patch",
		body:                    reviewJSON(requestJSON("CONNECT", `,"object":`+noPathTypeJSON)),
		want:                    both(allowed),
		sameAsControllerRuntime: true,
	}, {
		name: "32,000 paths on one host: refused as over the route limit",
		body: reviewJSON(requestJSON("CREATE", `,"object":`+manyPaths)),
		want: [2]expect{allowed, {code: http.StatusUnprocessableEntity, message: fmt.Sprintf(
			`host "httpbin.example.com" would get 32000 routes (32000 from this Ingress, 0 from other Ingresses), over the limit of %d`, convert.MaxRoutesPerHost)}},
		sameAsControllerRuntime: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := server(t, cluster())
			var ref *httptest.Server
			if tc.sameAsControllerRuntime {
				ref = referenceServer(t, cluster())
			}
			for i, hook := range []string{webhook.MutatePath, webhook.ValidatePath} {
				want := tc.want[i]
				got := post(t, srv.Client(), srv.URL+hook, tc.body)
				if got.Code != want.code || got.Allowed != (want.code == http.StatusOK) {
					t.Errorf("%s: allowed %v with code %d (%s), want code %d", hook, got.Allowed, got.Code, got.Message, want.code)
				}
				if !strings.Contains(got.Message, want.message) {
					t.Errorf("%s: message %q does not say %q", hook, got.Message, want.message)
				}
				if want.code >= 400 && got.Message == "" {
					t.Errorf("%s: refused without a message", hook)
				}
				if (got.Patch != "") != want.patch {
					t.Errorf("%s: patch %q, want a patch: %v", hook, got.Patch, want.patch)
				}
				if ref == nil {
					continue
				}
				r := post(t, ref.Client(), ref.URL+hook, tc.body)
				if got.Code != r.Code || got.Allowed != r.Allowed || got.Patch != r.Patch || !reflect.DeepEqual(got.Warnings, r.Warnings) {
					t.Errorf("%s: answered %+v\ncontroller-runtime's admission.Webhook answers %+v", hook, got, r)
				}
			}
		})
	}
}

// TestDryRunAnsweredTheSame: a dry-run request gets the answer of the same
// request without dry-run, from both webhooks, whether the Ingress is
// allowed, patched or refused.
func TestDryRunAnsweredTheSame(t *testing.T) {
	srv := server(t, cluster())
	noPathType := strings.Replace(seedJSON, `"pathType":"Prefix",`, "", 1)
	regex := strings.Replace(seedJSON, `"path":"/status","pathType":"Prefix"`, `"path":"/api/(.*)","pathType":"ImplementationSpecific"`, 1)
	if regex == seedJSON {
		t.Fatal("seedJSON has no path to make a regex")
	}
	for name, object := range map[string]string{"valid": seedJSON, "no pathType": noPathType, "regex path": regex, "a number": "42"} {
		for _, hook := range []string{webhook.MutatePath, webhook.ValidatePath} {
			wet := post(t, srv.Client(), srv.URL+hook, reviewJSON(requestJSON("CREATE", `,"object":`+object)))
			dry := post(t, srv.Client(), srv.URL+hook, reviewJSON(requestJSON("CREATE", `,"dryRun":true,"object":`+object)))
			if !reflect.DeepEqual(wet, dry) {
				t.Errorf("%s, %s: dry-run answered %+v\nwithout dry-run %+v", name, hook, dry, wet)
			}
		}
	}
}
