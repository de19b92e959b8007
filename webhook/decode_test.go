package webhook

import (
	"fmt"
	"slices"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// decodeCases are request objects whose decoding must not depend on the
// path decodeIngress takes: the API server's form, and forms that only a
// hostile or broken client would send.
var decodeCases = []string{
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"a","namespace":"n","managedFields":[{"manager":"m","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{}}}]},"spec":{"ingressClassName":"istio","rules":[{"host":"a.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"s","port":{"number":80}}}}]}}]}}`,
	` {"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"leading-space"}}`,
	`{"kind":"Ingress","metadata":{"name":"no-apiVersion"}}`,
	`{"apiVersion":"networking.k8s.io/v1","metadata":{"name":"no-kind"}}`,
	`{"metadata":{"name":"no-type"}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","Kind":"IngressClass","metadata":{"name":"case-variant-kind"}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","KIND":"Pod","metadata":{"name":"upper-kind"}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","ApiVersion":"v1","metadata":{"name":"case-variant-apiVersion"}}`,
	"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"\u212aind\":\"IngressClass\",\"metadata\":{\"name\":\"kelvin-sign\"}}",
	"{\"apiVer\u017fion\":\"v1\",\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"long-s\"}}",
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","\u004bind":"IngressClass","metadata":{"name":"escaped-kind"}}`,
	`{"apiVersion":"networking.k8s.io/v1","\u006bind":"Ingress","metadata":{"name":"escaped-only-kind"}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"value-spelled-KIND","annotations":{"note":"KIND"}}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","kind":"Ingress","metadata":{"name":"duplicate-kind"}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","kind":"IngressClass","metadata":{"name":"duplicate-kind-last-wins"}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"unknown-field"},"spec":{"future":true}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"istio"}}`,
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"x"},"spec":"everything"}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"trailing"}} {}`,
	`{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"truncated"`,
	`{"apiVersion":7,"kind":"Ingress"}`,
	`42`,
	`null`,
	`"Ingress"`,
	"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: yaml\n",
}

// sameAsDecoder checks that decodeIngress answers exactly as ingressDecoder.
func sameAsDecoder(t *testing.T, raw []byte) {
	t.Helper()
	got, gotKind, gotErr := decodeIngress(raw)
	var want networkingv1.Ingress
	_, wantKind, wantErr := ingressDecoder.Decode(raw, nil, &want)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, want %v", raw, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if gotKind != metav1.GroupVersionKind(*wantKind) {
		t.Errorf("%s: kind %v, want %v", raw, gotKind, *wantKind)
	}
	if !equality.Semantic.DeepEqual(*got, want) {
		t.Errorf("%s: decoded %+v, want %+v", raw, *got, want)
	}
}

// FuzzDecodeIngress: the one-pass decoding gives the same Ingress, kind
// and error as the API machinery's decoder, whatever the input. `go test`
// runs the seeds, decodeCases; -fuzz looks for more.
func FuzzDecodeIngress(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(sameAsDecoder)
}

// reviewCases are request bodies whose decoding must not depend on the path
// decodeReview takes.
var reviewCases = []string{
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"networking.k8s.io","version":"v1","kind":"Ingress"},"operation":"CREATE","object":{"kind":"Ingress"}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","futureField":1}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"update","operation":"UPDATE","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"a"}},"oldObject":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"a","labels":{"old":"yes"}}}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"odd-oldObject","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"},"oldObject":[1,"two",{"three":null}]}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"null-oldObject","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"},"oldObject":null}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"broken-oldObject","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"},"oldObject":{"a":}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","Kind":"Pod","request":{"uid":"case-variant-kind"}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","APIVERSION":"v1","request":{"uid":"upper-apiVersion"}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","Request":{"uid":"case-variant-request"}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","\u004bind":"Pod","request":{"uid":"escaped-kind"}}`,
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"\u212aind\":\"Pod\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"kelvin-sign\"}}",
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"a"},"request":{"uid":"duplicate"}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"two-objects","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"labels":{"first":"yes"}}},"object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"object-then-null","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"a"}},"object":null}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"two-requests","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"labels":{"first":"yes"}}}},"request":{"object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"escaped-object","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"labels":{"first":"yes"}}},"\u006fbject":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","\u0072equest":{"uid":"escaped-request","object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"labels":{"first":"yes"}}}},"request":{"object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"}}}`,
	`{"apiVersion":"admission.k8s.io/v1" , "kind" : "AdmissionReview" ,"request": {"uid":"spaces-and-numbers","dryRun":true,"options":[1,-2.5e3,null,{"a":[]}],"object" :{ "apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"generation":7}} ,"oldObject":{"x":1}} }`,
	`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"old"}}`,
	`{"request":{"uid":"no-type"}}`,
	`{"apiVersion":"v1","kind":"Pod"}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"truncated"`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":"everything"}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"} {}`,
	`null`,
	`42`,
	"apiVersion: admission.k8s.io/v1\nkind: AdmissionReview\nrequest:\n  uid: yaml\n",
}

// sameAsReviewDecoder checks that decodeReview answers exactly as
// reviewDecoder does into a review that defaults to v1, as
// controller-runtime's admission.Webhook decodes.
func sameAsReviewDecoder(t *testing.T, raw []byte) {
	t.Helper()
	got, gotErr := decodeReview(raw)
	var want admissionv1.AdmissionReview
	want.SetGroupVersionKind(reviewKind)
	_, _, wantErr := reviewDecoder.Decode(raw, nil, &want)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, want %v", raw, gotErr, wantErr)
	}
	if wantErr == nil && !equality.Semantic.DeepEqual(*got, want) {
		t.Errorf("%s: decoded %+v, want %+v", raw, *got, want)
	}
}

// FuzzDecodeReview: the one-pass decoding gives the same review and error
// as the API machinery's decoder, whatever the input. `go test` runs the
// seeds, reviewCases; -fuzz looks for more.
func FuzzDecodeReview(f *testing.F) {
	for _, c := range reviewCases {
		f.Add([]byte(c))
	}
	f.Fuzz(sameAsReviewDecoder)
}

// sameAsTwoSteps checks that decodeReviewAndIngress answers as
// decodeReview followed by decodeIngress on request.object: the same
// error, the same review but for request.object,
// and, when it returns an Ingress, the one decodeIngress finds there.
func sameAsTwoSteps(t *testing.T, raw []byte) {
	t.Helper()
	got, ing, gotErr := decodeReviewAndIngress(raw)
	want, wantErr := decodeReview(raw)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, want %v", raw, gotErr, wantErr)
	}
	if wantErr != nil || ing == nil {
		if ing == nil && wantErr == nil && !equality.Semantic.DeepEqual(*got, *want) {
			t.Errorf("%s: decoded %+v, want %+v", raw, *got, *want)
		}
		return
	}
	wantIng, kind, err := decodeIngress(want.Request.Object.Raw)
	if err != nil || kind != ingressKind || !equality.Semantic.DeepEqual(*ing, *wantIng) {
		t.Fatalf("%s: Ingress %+v, want %+v (%v, %v)", raw, *ing, wantIng, kind, err)
	}
	if len(got.Request.Object.Raw) != 0 {
		t.Errorf("%s: request.object kept beside the Ingress", raw)
	}
	got.Request.Object = want.Request.Object
	if !equality.Semantic.DeepEqual(*got, *want) {
		t.Errorf("%s: decoded %+v, want %+v", raw, *got, *want)
	}
}

// reviewsOfObjects wraps every request object of decodeCases in a review.
func reviewsOfObjects() []string {
	out := slices.Clone(reviewCases)
	for _, c := range decodeCases {
		out = append(out, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":`+c+`}}`)
	}
	return out
}

// TestOnePass: the API server's form of a review takes the one pass.
func TestOnePass(t *testing.T) {
	if _, ing, err := decodeReviewAndIngress([]byte(reviewsOfObjects()[len(reviewCases)])); err != nil || ing == nil {
		t.Errorf("the API server's form was not decoded in one pass (%v)", err)
	}
}

// FuzzDecodeReviewAndIngress: decoding the review and its Ingress in one
// pass gives what decoding them one after the other gives. `go test` runs
// the seeds, reviewsOfObjects; -fuzz looks for more.
func FuzzDecodeReviewAndIngress(f *testing.F) {
	for _, c := range reviewsOfObjects() {
		f.Add([]byte(c))
	}
	f.Fuzz(sameAsTwoSteps)
}
