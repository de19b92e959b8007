package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// The cluster the load program fills: Ingresses and Secrets spread over
// teams namespaces and the gateway namespace, two Ingresses per host (a
// "web" one and an "api" one, in different namespaces, the host shared by
// its owner), TLS on a third of the hosts, every certificate declared for
// every namespace, Helm-style labels and annotations, and a Service for the
// Ingresses whose backend names its port.
const (
	teams = 50
	// WebhookLabel routes an Ingress to one set of webhooks: ingressguard's
	// (absent or "ingressguard"), the floor's ("floor") or none ("none").
	webhookLabel = "load.ingressguard.io/webhook"
	gatewayNS    = envtest.IstioNamespace
	// gatewayIP is the address of the ingress gateway Service, which the
	// reconcilers copy into every Ingress status.
	gatewayIP = "192.0.2.10"
)

func teamNS(i int) string { return fmt.Sprintf("team-%02d", i%teams) }

// namespaces are the namespaces the fixtures use besides the gateway one.
func namespaces() []string {
	out := make([]string, teams)
	for i := range out {
		out[i] = teamNS(i)
	}
	return out
}

// secretNamespace spreads Secrets over the teams and the gateway namespace:
// one in teams+1 lands in the gateway namespace, the only one that matters.
func secretNamespace(i int) string {
	if i%(teams+1) == 0 {
		return gatewayNS
	}
	return teamNS(i%(teams+1) - 1)
}

func secretName(i int) string { return fmt.Sprintf("tls-%05d", i) }

// pem is filler of the size of a certificate or key; the API server checks
// only that a kubernetes.io/tls Secret has both keys.
var pem = []byte("-----BEGIN CERTIFICATE-----\n" + strings.Repeat("MIIDdzCCAl+gAwIBAgIUQ2xvYWQtdGVzdC1maWxsZXItZGF0YS0wMDAwMDAwMDAw\n", 16) + "-----END CERTIFICATE-----\n")

func secret(i int) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: secretNamespace(i), Name: secretName(i), Labels: map[string]string{"app.kubernetes.io/managed-by": "cert-sync"},
			// Every team may serve every certificate, as declared.
			Annotations: map[string]string{convert.AnnotationAllowedNamespaces: "*"}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: pem, corev1.TLSPrivateKeyKey: pem},
	}
}

// gatewaySecret names a Secret in the gateway namespace that exists once
// Secrets 0..j exist.
func gatewaySecret(j int) string {
	k := (j * 7) % (j/(teams+1) + 1)
	return secretName(k * (teams + 1))
}

func host(k int) string { return fmt.Sprintf("app-%d.example.com", k) }

func ptr[T any](v T) *T { return &v }

// helm returns the labels and annotations a Helm release puts on an object.
func helm(release, ns string) (map[string]string, map[string]string) {
	return map[string]string{
			"app.kubernetes.io/name":       release,
			"app.kubernetes.io/instance":   release,
			"app.kubernetes.io/managed-by": "Helm",
			"helm.sh/chart":                "service-1.4.2",
		}, map[string]string{
			"meta.helm.sh/release-name":      release,
			"meta.helm.sh/release-namespace": ns,
		}
}

func backend(svc string, port int32, portName string) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: svc, Port: networkingv1.ServiceBackendPort{Number: port, Name: portName}}}
}

func path(p string, pt networkingv1.PathType, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: b}
}

// namedPort reports whether Ingress j's backend names its port, which needs
// a Service to resolve.
func namedPort(j int) bool { return j%10 == 1 }

// ingress is the j-th Ingress of the cluster: host j/2; even ones serve
// "/", "/static" and "/favicon.ico", odd ones "/api", "/api/v1/healthz"
// and the legacy "/api/legacy/*".
func ingress(j int) *networkingv1.Ingress {
	k := j / 2
	ns := teamNS(j)
	var name string
	var paths []networkingv1.HTTPIngressPath
	if j%2 == 0 {
		name = fmt.Sprintf("web-%d", k)
		web := backend(name, 80, "")
		paths = []networkingv1.HTTPIngressPath{
			path("/", networkingv1.PathTypePrefix, web),
			path("/static", networkingv1.PathTypePrefix, backend(fmt.Sprintf("static-%d", k), 8080, "")),
			path("/favicon.ico", networkingv1.PathTypeExact, web),
		}
	} else {
		name = fmt.Sprintf("api-%d", k)
		api := backend(name, 8080, "")
		if namedPort(j) {
			api = backend(name, 0, "http")
		}
		paths = []networkingv1.HTTPIngressPath{
			path("/api", networkingv1.PathTypePrefix, api),
			path("/api/v1/healthz", networkingv1.PathTypeExact, api),
			path("/api/legacy/*", networkingv1.PathTypeImplementationSpecific, backend(name, 8081, "")),
		}
	}
	labels, annotations := helm(name, ns)
	// Each host is shared by two teams' Ingresses, and the measured reviews
	// add a third team's: whichever claimed the host first shares it.
	annotations[convert.AnnotationShareHostWith] = "*"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr(envtest.IngressClassName),
			Rules: []networkingv1.IngressRule{{Host: host(k), IngressRuleValue: networkingv1.IngressRuleValue{
				HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}},
		},
	}
	if k%3 == 0 {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host(k)}, SecretName: gatewaySecret(j)}}
	}
	return ing
}

// service is the Service that Ingress j's named port resolves through.
func service(j int) *corev1.Service {
	name := fmt.Sprintf("api-%d", j/2)
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: teamNS(j), Name: name},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080)},
				{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9090)},
			},
		},
	}
}

// gatewayService is the ingress gateway Service with a load-balancer address.
func gatewayService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: gatewayNS, Name: "istio-ingressgateway"},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"istio": "ingressgateway"},
			Ports:    []corev1.ServicePort{{Name: "http2", Port: 80, TargetPort: intstr.FromInt32(8080)}, {Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443)}},
		},
	}
}

// reviewed is the r-th Ingress of the admission measurements: a new
// Ingress on one of the first hosts hosts, with two paths that no existing
// Ingress routes, TLS, and the label that picks its webhooks. With
// legacy, its second path has no pathType, which the mutating webhook sets.
func reviewed(r, hosts int, target string, legacy bool) *networkingv1.Ingress {
	ns := teamNS(r)
	name := fmt.Sprintf("new-%d", r)
	h := host((r * 7919) % hosts)
	labels, annotations := helm(name, ns)
	labels[webhookLabel] = target
	b := backend(name, 8080, "")
	second := path(fmt.Sprintf("/new-%d/healthz", r), networkingv1.PathTypeExact, b)
	if legacy {
		second = networkingv1.HTTPIngressPath{Path: fmt.Sprintf("/new-%d/legacy/*", r), Backend: b}
	}
	return &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr(envtest.IngressClassName),
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{h}, SecretName: secretName(0)}},
			Rules: []networkingv1.IngressRule{{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{
				HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					path(fmt.Sprintf("/new-%d", r), networkingv1.PathTypePrefix, b), second}}}}},
		},
	}
}

// reviewBodies encodes count AdmissionReviews of CREATEs of reviewed
// Ingresses, as the API server sends them: with the user, the create
// options, and the managedFields the API server has already set.
func reviewBodies(count, hosts int, legacy bool) ([][]byte, error) {
	out := make([][]byte, count)
	created := metav1.NewTime(time.Now().Truncate(time.Second))
	for r := range out {
		ing := reviewed(r, hosts, "ingressguard", legacy)
		ing.UID = types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", r))
		ing.CreationTimestamp = created
		ing.Generation = 1
		ing.ManagedFields = []metav1.ManagedFieldsEntry{{
			Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "networking.k8s.io/v1",
			Time: &created, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(
				`{"f:metadata":{"f:annotations":{".":{},"f:meta.helm.sh/release-name":{},"f:meta.helm.sh/release-namespace":{}},"f:labels":{".":{},"f:app.kubernetes.io/instance":{},"f:app.kubernetes.io/managed-by":{},"f:app.kubernetes.io/name":{},"f:helm.sh/chart":{},"f:load.ingressguard.io/webhook":{}}},"f:spec":{"f:ingressClassName":{},"f:rules":{},"f:tls":{}}}`),
		}}
		obj, err := json.Marshal(ing)
		if err != nil {
			return nil, err
		}
		opts, err := json.Marshal(&metav1.CreateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "CreateOptions"}, FieldManager: "kubectl-client-side-apply"})
		if err != nil {
			return nil, err
		}
		kind := metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}
		resource := metav1.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
		review := admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID: types.UID(fmt.Sprintf("10000000-0000-4000-8000-%012d", r)), Kind: kind, Resource: resource,
				RequestKind: &kind, RequestResource: &resource, Name: ing.Name, Namespace: ing.Namespace,
				Operation: admissionv1.Create,
				UserInfo:  authenticationv1.UserInfo{Username: "kubernetes-admin", Groups: []string{"system:masters", "system:authenticated"}},
				Object:    runtime.RawExtension{Raw: obj}, Options: runtime.RawExtension{Raw: opts}, DryRun: ptr(false),
			},
		}
		if out[r], err = json.Marshal(&review); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// createAll creates objs with up to workers requests at a time. An object
// that already exists counts as created; other failures are retried a few
// times (the webhooks may be restarting) before giving up.
func createAll(ctx context.Context, c client.Client, workers int, objs []client.Object) error {
	return eachOf(ctx, workers, objs, func(obj client.Object) error { return createOne(ctx, c, obj) })
}

// deleteAll deletes objs, workers at a time; those already gone are fine.
func deleteAll(ctx context.Context, c client.Client, workers int, objs []client.Object) error {
	return eachOf(ctx, workers, objs, func(obj client.Object) error {
		return client.IgnoreNotFound(c.Delete(ctx, obj))
	})
}

// eachOf calls do for each of objs in up to workers goroutines, and
// returns the first error.
func eachOf(ctx context.Context, workers int, objs []client.Object, do func(client.Object) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan client.Object)
	)
	for range workers {
		wg.Go(func() {
			for obj := range next {
				if err := do(obj); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, obj := range objs {
		select {
		case next <- obj:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	return errors.Join(first, ctx.Err())
}

func createOne(ctx context.Context, c client.Client, obj client.Object) error {
	var err error
	for attempt := range 5 {
		err = c.Create(ctx, obj)
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	return fmt.Errorf("creating %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
}
