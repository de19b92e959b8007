package istio

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	istiolog "istio.io/istio/pkg/log"
	"istio.io/istio/pkg/webhooks/validation/server"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingressguard/ingressguard/convert"
)

// The settings every test converts with: convert.DefaultSettings, whose
// gateway namespace, selector and domain suffix the fake istiod and the
// gateway proxy below must agree with.
const (
	gatewayNamespace = "istio-system"
	domainSuffix     = "cluster.local"
)

var gatewayLabels = map[string]string{"istio": "ingressgateway"}

var istioLog = flag.String("istio-log", "none", "level of Istio's own logs: debug, info, warn, error or none")

// TestMain quiets Istio's logs, unless -istio-log asks for them: its
// webhook logs every refusal, and its fake cluster's Gateway API CRDs
// lack the annotations its CRD watcher wants.
func TestMain(m *testing.M) {
	flag.Parse()
	levels := map[string]istiolog.Level{"debug": istiolog.DebugLevel, "info": istiolog.InfoLevel, "warn": istiolog.WarnLevel, "error": istiolog.ErrorLevel, "none": istiolog.NoneLevel}
	level, ok := levels[*istioLog]
	if !ok {
		fmt.Fprintf(os.Stderr, "-istio-log=%s: want one of debug, info, warn, error, none\n", *istioLog)
		os.Exit(2)
	}
	for _, s := range istiolog.Scopes() {
		s.SetOutputLevel(level)
	}
	os.Exit(m.Run())
}

// admitted converts snap with settings s as a cluster would hold it: an Ingress that
// convert reports errors for is refused by ingressguard's validating
// webhook, so it never exists; it is left out and the rest converted
// again, until no Ingress has errors. It returns the result and the
// Ingresses left out.
func admitted(s convert.Settings, snap convert.Snapshot) (*convert.Result, []types.NamespacedName) {
	var refused []types.NamespacedName
	for {
		res := s.Convert(snap)
		bad := map[types.NamespacedName]bool{}
		for _, r := range res.Reports {
			if len(r.Errors) > 0 {
				bad[r.Ingress] = true
				refused = append(refused, r.Ingress)
			}
		}
		if len(bad) == 0 {
			return res, refused
		}
		snap.Ingresses = slices.DeleteFunc(slices.Clone(snap.Ingresses), func(ing *networkingv1.Ingress) bool {
			return bad[types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}]
		})
	}
}

// describe names an object for messages: "Gateway istio-system/name".
func describe(obj runtime.Object) string {
	m, err := metaOf(obj)
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return fmt.Sprintf("%s %s/%s", obj.GetObjectKind().GroupVersionKind().Kind, m.Namespace, m.Name)
}

func metaOf(obj runtime.Object) (*metav1.ObjectMeta, error) {
	switch o := obj.(type) {
	case *istionet.Gateway:
		return &o.ObjectMeta, nil
	case *istionet.VirtualService:
		return &o.ObjectMeta, nil
	case *istionet.DestinationRule:
		return &o.ObjectMeta, nil
	case *istiosec.AuthorizationPolicy:
		return &o.ObjectMeta, nil
	}
	return nil, fmt.Errorf("unexpected object %T", obj)
}

// schemaOf is the Istio schema of a generated object's kind.
func schemaOf(obj runtime.Object) (resource.Schema, error) {
	switch obj.(type) {
	case *istionet.Gateway:
		return collections.Gateway, nil
	case *istionet.VirtualService:
		return collections.VirtualService, nil
	case *istionet.DestinationRule:
		return collections.DestinationRule, nil
	case *istiosec.AuthorizationPolicy:
		return collections.AuthorizationPolicy, nil
	}
	return nil, fmt.Errorf("unexpected object %T", obj)
}

// istioConfig turns a generated object into the config.Config that istiod
// holds for it, through the JSON the API server stores and istiod's own
// CRD conversion (the path its validating webhook takes too).
func istioConfig(obj runtime.Object) (config.Config, error) {
	s, err := schemaOf(obj)
	if err != nil {
		return config.Config{}, err
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return config.Config{}, err
	}
	var kind crd.IstioKind
	if err := json.Unmarshal(raw, &kind); err != nil {
		return config.Config{}, err
	}
	cfg, err := crd.ConvertObject(s, &kind, domainSuffix)
	if err != nil {
		return config.Config{}, err
	}
	return *cfg, nil
}

// webhook is istiod's validating admission webhook, the handler istiod
// serves at /validate with the schemas istiod registers, called in
// process.
type webhook struct{ mux *http.ServeMux }

func newWebhook(t testing.TB) *webhook {
	t.Helper()
	mux := http.NewServeMux()
	if _, err := server.New(server.Options{Schemas: collections.PilotGatewayAPI(), DomainSuffix: domainSuffix, Mux: mux}); err != nil {
		t.Fatal(err)
	}
	return &webhook{mux: mux}
}

// admit sends the creation of obj to istiod's validating webhook, as the
// API server would, and returns its warnings and, when it refuses obj,
// its message as an error.
func (w *webhook) admit(obj runtime.Object) (warnings []string, err error) {
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("review-" + m.Name),
			Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
			Resource:  metav1.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: strings.ToLower(gvk.Kind) + "s"},
			Name:      m.Name,
			Namespace: m.Namespace,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("webhook answered HTTP %d: %s", rec.Code, rec.Body)
	}
	var answer admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		return nil, fmt.Errorf("webhook answer: %v", err)
	}
	if answer.Response == nil {
		return nil, fmt.Errorf("webhook answered without a response: %s", rec.Body)
	}
	if !answer.Response.Allowed {
		msg := "refused"
		if answer.Response.Result != nil {
			msg = answer.Response.Result.Message
		}
		return answer.Response.Warnings, fmt.Errorf("%s", msg)
	}
	return answer.Response.Warnings, nil
}

// The builders below make the objects that cases and random sets are
// written with.

func ptr[T any](v T) *T { return &v }

var (
	exact    = ptr(networkingv1.PathTypeExact)
	prefix   = ptr(networkingv1.PathTypePrefix)
	implSpec = ptr(networkingv1.PathTypeImplementationSpecific)
)

// ingress is an Ingress of ours (class annotation istio), created age
// minutes after a fixed time, so that tables can say which is older.
func ingress(ns, name string, age int, spec networkingv1.IngressSpec) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name,
			Annotations:       map[string]string{convert.ClassAnnotation: "istio"},
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, age, 0, 0, time.UTC)),
		},
		Spec: spec,
	}
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
}

func path(p string, pt *networkingv1.PathType, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: pt, Backend: b}
}

func backend(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

func namedBackend(name, port string) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Name: port}}}
}

func tls(secret string, hosts ...string) networkingv1.IngressTLS {
	return networkingv1.IngressTLS{Hosts: hosts, SecretName: secret}
}

func service(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Ports: ports},
	}
}
