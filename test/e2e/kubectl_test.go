package e2e_test

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"text/template"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/server"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// manifest describes a test Ingress; its zero value is the seed's Ingress
// (the Istio task page's first example) without pathType.
type manifest struct {
	Name, Namespace string
	// Class is the kubernetes.io/ingress.class annotation ("istio" when
	// empty); ClassName, when set, replaces it by spec.ingressClassName.
	Class, ClassName string
	Path, PathType   string // Path defaults to /status
	// TLS adds a tls entry for the host with this secretName ("-" for an
	// entry without secretName).
	TLS string
	// Resource makes the backend a resource backend.
	Resource bool
	// Host is the rule's and the tls entry's host (httpbin.example.com
	// when empty).
	Host string
	// Share, when set, is the annotation ingressguard.io/share-host-with.
	Share string
}

var ingressTemplate = template.Must(template.New("ingress").Parse(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .Name }}
  namespace: {{ .Namespace }}
{{- if or (not .ClassName) .Share }}
  annotations:
{{- if not .ClassName }}
    kubernetes.io/ingress.class: {{ .Class }}
{{- end }}
{{- if .Share }}
    ingressguard.io/share-host-with: {{ printf "%q" .Share }}
{{- end }}
{{- end }}
spec:
{{- if .ClassName }}
  ingressClassName: {{ .ClassName }}
{{- end }}
{{- if eq .TLS "-" }}
  tls:
  - hosts: [{{ .Host }}]
{{- else if .TLS }}
  tls:
  - hosts: [{{ .Host }}]
    secretName: {{ .TLS }}
{{- end }}
  rules:
  - host: {{ .Host }}
    http:
      paths:
      - path: {{ printf "%q" .Path }}
{{- if .PathType }}
        pathType: {{ .PathType }}
{{- end }}
        backend:
{{- if .Resource }}
          resource:
            apiGroup: k8s.example.com
            kind: StorageBucket
            name: static-assets
{{- else }}
          service:
            name: httpbin
            port:
              number: 8000
{{- end }}
`))

func (m manifest) String() string {
	if m.Name == "" {
		m.Name = "ingress"
	}
	if m.Namespace == "" {
		m.Namespace = "default"
	}
	if m.Class == "" {
		m.Class = "istio"
	}
	if m.Path == "" {
		m.Path = "/status"
	}
	if m.Host == "" {
		m.Host = "httpbin.example.com"
	}
	var b bytes.Buffer
	if err := ingressTemplate.Execute(&b, m); err != nil {
		panic(err)
	}
	return b.String()
}

const tlsSecret = `apiVersion: v1
kind: Secret
metadata:
  name: httpbin-tls
  namespace: %s
type: kubernetes.io/tls
stringData:
  tls.crt: not-a-real-certificate
  tls.key: not-a-real-key
`

const issuingCertificate = `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: httpbin
  namespace: istio-system
spec:
  secretName: issued-tls
  dnsNames: [httpbin.example.com]
  issuerRef:
    kind: ClusterIssuer
    name: letsencrypt
`

// rewriteCORSIngress carries ingress-nginx's rewrite-target and CORS
// annotations, which ingressguard translates.
const rewriteCORSIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rewrite-cors
  namespace: shop
  annotations:
    kubernetes.io/ingress.class: istio
    nginx.ingress.kubernetes.io/rewrite-target: /
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: https://app.example.com
    nginx.ingress.kubernetes.io/cors-allow-methods: GET, POST
spec:
  rules:
  - host: rewrite.example.com
    http:
      paths:
      - path: /app
        pathType: Prefix
        backend:
          service:
            name: app
            port:
              number: 80
`

// TestKubectl is the "Done when" list, step by step, as a user at
// a terminal would see it.
func TestKubectl(t *testing.T) {
	h := start(t)
	apply := func(t *testing.T, m string, extra ...string) (string, string, bool) {
		t.Helper()
		return h.kubectl(t, m, append([]string{"apply", "-f", "-"}, extra...)...)
	}
	mustApply := func(t *testing.T, m string) {
		t.Helper()
		if out, errOut, ok := apply(t, m); !ok {
			t.Fatalf("kubectl apply failed:\n%s%s\nmanifest:\n%s", out, errOut, m)
		}
	}
	get := func(t *testing.T, ns, name, jsonpath string) (string, bool) {
		t.Helper()
		out, errOut, ok := h.kubectl(t, "", "get", "ingress", name, "-n", ns, "-o", "jsonpath="+jsonpath)
		if !ok && !strings.Contains(errOut, "NotFound") {
			t.Fatalf("kubectl get ingress %s/%s: %s", ns, name, errOut)
		}
		return out, ok
	}
	mustApply(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")

	t.Run("seed without pathType: accepted, stored as Exact, kubectl prints the warning", func(t *testing.T) {
		out, errOut, ok := apply(t, manifest{}.String())
		t.Logf("$ kubectl apply -f seed-without-pathType.yaml\n%s%s", errOut, out)
		if !ok {
			t.Fatalf("rejected:\n%s", errOut)
		}
		contains(t, "kubectl's output", out, "ingress.networking.k8s.io/ingress created")
		contains(t, "kubectl's warnings", errOut,
			`Warning: spec.rules[0].http.paths[0].pathType: defaulted to Exact for path "/status": Istio treats a plain path as an exact match, so sub-paths such as "/status/example" are not routed; set pathType: Prefix to match them`)
		if pt, _ := get(t, "default", "ingress", "{.spec.rules[0].http.paths[0].pathType}"); pt != "Exact" {
			t.Errorf("stored pathType = %q, want Exact", pt)
		}
	})

	t.Run("every path has a pathType: sent to the validating webhook only", func(t *testing.T) {
		received, _ := h.webhookRequests(t)
		valid := h.decisions(t, "validate", "allowed", "valid")
		unchanged := h.decisions(t, "mutate", "allowed", "unchanged")
		out, errOut, ok := apply(t, manifest{Name: "typed", PathType: "Prefix", Host: "typed.example.com"}.String())
		if !ok {
			t.Fatalf("rejected:\n%s", errOut)
		}
		contains(t, "kubectl's output", out, "ingress.networking.k8s.io/typed created")
		if r, _ := h.webhookRequests(t); r-received != 1 {
			t.Errorf("the webhook server received %v requests, want 1: the mutating webhook's match condition should have skipped it", r-received)
		}
		if d := h.decisions(t, "validate", "allowed", "valid") - valid; d != 1 {
			t.Errorf("validating webhook: %v valid decisions, want 1", d)
		}
		if d := h.decisions(t, "mutate", "allowed", "unchanged") - unchanged; d != 0 {
			t.Errorf("mutating webhook: %v unchanged decisions, want 0", d)
		}
	})

	t.Run("shapes the defaulting match condition must not fail on", func(t *testing.T) {
		for _, tc := range []struct{ name, spec, want string }{
			{"no rules, a defaultBackend", "  defaultBackend:\n    service:\n      name: httpbin\n      port:\n        number: 8000\n", ""},
			{"a rule without http", "  rules:\n  - host: nohttp.example.com\n", ""},
			{"http without paths", "  rules:\n  - host: nopaths.example.com\n    http: {}\n", "spec.rules[0].http.paths: Required value"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				name := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(tc.name, " ", "-"), ",", ""))
				m := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name +
					"\n  namespace: default\n  annotations:\n    kubernetes.io/ingress.class: istio\nspec:\n" + tc.spec
				_, errOut, ok := apply(t, m)
				if strings.Contains(errOut, "match condition") || strings.Contains(errOut, "failed calling webhook") {
					t.Fatalf("the match conditions failed:\n%s", errOut)
				}
				if tc.want == "" && !ok {
					t.Fatalf("rejected:\n%s", errOut)
				}
				if tc.want != "" {
					contains(t, "kubectl's error", errOut, tc.want)
				}
			})
		}
	})

	// Each rejection, and the same with --dry-run=server.
	mustApply(t, strings.ReplaceAll(tlsSecret, "%s", "shop"))
	for _, tc := range []struct {
		name string
		m    manifest
		want []string // field, value and fix
	}{{
		name: "regex path",
		m:    manifest{Name: "regex", Path: "/api/(.*)", PathType: "ImplementationSpecific"},
		want: []string{`spec.rules[0].http.paths[0].path: Invalid value: "/api/(.*)"`, "regular-expression syntax", "use pathType: Prefix with path: /api"},
	}, {
		name: "TLS Secret only in the Ingress's own namespace",
		m:    manifest{Name: "tls", Namespace: "shop", ClassName: "istio", PathType: "Prefix", TLS: "httpbin-tls", Host: "shop.example.com"},
		want: []string{`spec.tls[0].secretName: Invalid value: "httpbin-tls"`, `no Secret of that name in namespace "istio-system"`,
			`never from the Ingress's namespace "shop"`, "kubectl -n istio-system create secret tls httpbin-tls --cert=FILE --key=FILE"},
	}, {
		name: "tls entry without secretName",
		m:    manifest{Name: "nosecret", ClassName: "istio", PathType: "Prefix", TLS: "-"},
		want: []string{"spec.tls[0].secretName: Required value", `name a kubernetes.io/tls Secret in namespace "istio-system"`},
	}, {
		name: "resource backend",
		m:    manifest{Name: "bucket", ClassName: "istio", PathType: "Prefix", Resource: true},
		want: []string{`spec.rules[0].http.paths[0].backend.resource: Invalid value: "k8s.example.com/StorageBucket/static-assets"`,
			"ignores resource backends", "use backend.service with a Service name and port"},
	}} {
		t.Run(tc.name+": rejected, same with --dry-run=server, nothing stored", func(t *testing.T) {
			out, errOut, ok := apply(t, tc.m.String())
			t.Logf("$ kubectl apply -f %s.yaml\n%s%s", tc.m.Name, errOut, out)
			if ok {
				t.Fatalf("accepted:\n%s", out)
			}
			contains(t, "kubectl's error", errOut, append([]string{fmt.Sprintf("The Ingress %q is invalid: ", tc.m.Name)}, tc.want...)...)
			_, dryErr, dryOK := apply(t, tc.m.String(), "--dry-run=server")
			if dryOK || dryErr != errOut {
				t.Errorf("--dry-run=server answered differently:\n%s\nwant:\n%s", dryErr, errOut)
			}
			ns := tc.m.Namespace
			if ns == "" {
				ns = "default"
			}
			if _, found := get(t, ns, tc.m.Name, "{.metadata.name}"); found {
				t.Errorf("a rejected Ingress was stored")
			}
		})
	}

	tlsIngress := manifest{Name: "tls", Namespace: "shop", ClassName: "istio", PathType: "Prefix", TLS: "httpbin-tls", Host: "shop.example.com"}.String()
	t.Run("accepted once the Secret exists in istio-system", func(t *testing.T) {
		mustApply(t, strings.ReplaceAll(tlsSecret, "%s", "istio-system"))
		h.cached(t, secretMeta("istio-system", "httpbin-tls"))
		mustApply(t, tlsIngress)
	})

	t.Run("accepted while only a cert-manager Certificate issues the Secret", func(t *testing.T) {
		mustApply(t, issuingCertificate)
		h.cached(t, certificate("istio-system", "httpbin"))
		mustApply(t, manifest{Name: "issued", Namespace: "shop", ClassName: "istio", PathType: "Prefix", TLS: "issued-tls", Host: "shop.example.com"}.String())
		if _, errOut, ok := h.kubectl(t, "", "get", "secret", "issued-tls", "-n", "istio-system"); ok || !strings.Contains(errOut, "NotFound") {
			t.Errorf("Secret issued-tls exists; this step needs it not to: %s", errOut)
		}
	})

	t.Run("team-b's Ingress for team-a's host: refused; admitted once team-a shares the host and the certificate", func(t *testing.T) {
		mustApply(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n")
		mustApply(t, strings.ReplaceAll(tlsSecret, "name: httpbin-tls\n  namespace: %s", "name: a-tls\n  namespace: istio-system\n  annotations:\n    ingressguard.io/allowed-namespaces: team-a"))
		h.cached(t, secretMeta("istio-system", "a-tls"))
		owner := manifest{Name: "shop", Namespace: "team-a", ClassName: "istio", Path: "/", PathType: "Prefix", TLS: "a-tls", Host: "a.example.com"}
		mustApply(t, owner.String())
		h.cached(t, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"}})
		login := manifest{Name: "login", Namespace: "team-b", ClassName: "istio", Path: "/login", PathType: "Exact", TLS: "a-tls", Host: "a.example.com"}

		_, errOut, ok := apply(t, login.String())
		t.Logf("$ kubectl apply -f login.yaml\n%s", errOut)
		if ok {
			t.Fatal("team-b's Ingress for team-a's host was admitted")
		}
		contains(t, "kubectl's error", errOut, `The Ingress "login" is invalid: `,
			`spec.rules[0].host: Invalid value: "a.example.com": host "a.example.com" is already served by an Ingress in another namespace, which claimed it first`,
			`spec.tls[0].hosts[0]: Invalid value: "a.example.com"`,
			`they add "team-b" to the annotation ingressguard.io/share-host-with on one of their Ingresses for it`,
			`spec.tls[0].secretName: Invalid value: "a-tls"`, `add "team-b" to that annotation`)
		if strings.Contains(errOut, "team-a") || strings.Contains(errOut, "shop") {
			t.Errorf("the refusal names the owner's objects:\n%s", errOut)
		}

		owner.Share = "team-b"
		mustApply(t, owner.String())
		envtest.Until(t, "the webhook to see team-a's consent", func() bool {
			_, errOut, _ := apply(t, login.String(), "--dry-run=server")
			return !strings.Contains(errOut, "spec.rules[0].host")
		})
		_, errOut, ok = apply(t, login.String())
		if ok || !strings.Contains(errOut, `spec.tls[0].secretName: Invalid value: "a-tls"`) || strings.Contains(errOut, "spec.rules[0].host") {
			t.Errorf("with the host shared, want only the certificate refused:\n%s", errOut)
		}

		if _, errOut, ok := h.kubectl(t, "", "annotate", "secret", "a-tls", "-n", "istio-system", "--overwrite", "ingressguard.io/allowed-namespaces=team-a,team-b"); !ok {
			t.Fatal(errOut)
		}
		envtest.Until(t, "team-b's Ingress to be admitted", func() bool {
			_, _, ok := apply(t, login.String())
			return ok
		})
	})

	t.Run("another class annotation: regex path accepted untouched, webhook never called", func(t *testing.T) {
		received, decided := h.webhookRequests(t)
		if received == 0 || decided == 0 {
			t.Fatalf("/metrics shows %v requests and %v decisions so far; the earlier steps made some", received, decided)
		}
		regex := manifest{Name: "nginx", Class: "nginx", Path: "/api/(.*)", PathType: "ImplementationSpecific"}.String()
		out, errOut, ok := apply(t, regex)
		if !ok {
			t.Fatalf("rejected:\n%s", errOut)
		}
		// The API server's own deprecation warning for the annotation may
		// appear; none of ingressguard's.
		if strings.Contains(errOut, "Istio") || strings.Contains(errOut, "pathType") {
			t.Errorf("kubectl printed ingressguard's warnings for another controller's Ingress:\n%s", errOut)
		}
		contains(t, "kubectl's output", out, "ingress.networking.k8s.io/nginx created")
		if p, _ := get(t, "default", "nginx", "{.spec.rules[0].http.paths[0].path}"); p != "/api/(.*)" {
			t.Errorf("stored path = %q, want it untouched", p)
		}
		if r, d := h.webhookRequests(t); r != received || d != decided {
			t.Errorf("the webhook server received %v requests and decided %v, want 0 and 0", r-received, d-decided)
		}
	})

	t.Run("IngressClass of another controller: its Ingresses are not sent to the webhooks", func(t *testing.T) {
		mustApply(t, "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: nginx\nspec:\n  controller: k8s.io/ingress-nginx\n")
		h.cached(t, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}})
		waitForClasses(t, h, "[")
		received, decided := h.webhookRequests(t)
		mustApply(t, manifest{Name: "nginx-class", ClassName: "nginx", Path: "/api/(.*)", PathType: "ImplementationSpecific"}.String())
		if r, d := h.webhookRequests(t); r != received || d != decided {
			t.Errorf("the webhook server received %v requests and decided %v, want 0 and 0", r-received, d-decided)
		}
	})

	t.Run("--dry-run=server of an acceptable Ingress: same warning, nothing stored", func(t *testing.T) {
		out, errOut, ok := apply(t, manifest{Name: "dry"}.String(), "--dry-run=server")
		if !ok {
			t.Fatalf("rejected:\n%s", errOut)
		}
		contains(t, "kubectl's output", out, "ingress.networking.k8s.io/dry created (server dry run)")
		contains(t, "kubectl's warnings", errOut, `Warning: spec.rules[0].http.paths[0].pathType: defaulted to Exact for path "/status"`)
		if _, found := get(t, "default", "dry", "{.metadata.name}"); found {
			t.Error("a dry-run Ingress was stored")
		}
	})

	t.Run("updates are validated", func(t *testing.T) {
		_, errOut, ok := apply(t, manifest{Path: "/api/(.*)", PathType: "ImplementationSpecific"}.String())
		if ok {
			t.Fatal("an update to a regex path was accepted")
		}
		contains(t, "kubectl's error", errOut, `spec.rules[0].http.paths[0].path: Invalid value: "/api/(.*)"`)
		if p, _ := get(t, "default", "ingress", "{.spec.rules[0].http.paths[0].path}"); p != "/status" {
			t.Errorf("stored path = %q, want /status unchanged", p)
		}
	})

	t.Run("deletes always pass, and updates that add no problem", func(t *testing.T) {
		// Removing the Secret makes the stored Ingress "tls" invalid.
		if _, errOut, ok := h.kubectl(t, "", "delete", "secret", "httpbin-tls", "-n", "istio-system"); !ok {
			t.Fatal(errOut)
		}
		h.uncached(t, secretMeta("istio-system", "httpbin-tls"))
		// An update that leaves that problem as it was is admitted, with
		// the problem as a warning (grandfathered): a Secret deleted since
		// must not freeze the Ingress.
		grandfathered := h.decisions(t, "validate", "allowed", "grandfathered")
		if _, errOut, ok := h.kubectl(t, "", "label", "ingress", "tls", "-n", "shop", "team=web"); !ok {
			t.Errorf("an update that keeps the stored Ingress's problem was refused:\n%s", errOut)
		} else {
			contains(t, "kubectl's warnings", errOut, `not refused because the stored Ingress has it too: spec.tls[0].secretName: Invalid value: "httpbin-tls"`)
		}
		if d := h.decisions(t, "validate", "allowed", "grandfathered") - grandfathered; d != 1 {
			t.Errorf("validating webhook: %v grandfathered decisions, want 1", d)
		}
		if _, errOut, ok := h.kubectl(t, "", "delete", "ingress", "tls", "-n", "shop"); !ok {
			t.Fatalf("delete rejected: %s", errOut)
		}
		if _, found := get(t, "shop", "tls", "{.metadata.name}"); found {
			t.Error("the Ingress is still there")
		}
	})

	wio := h.env.Environment.WebhookInstallOptions
	addr := net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort))
	t.Run("webhook server: TLS 1.2 or later, HTTP/1.1 only", func(t *testing.T) {
		checkTLS(t, addr, wio.LocalServingCAData)
	})

	// Last: the API server does not trust the renewed certificate.
	t.Run("a renewed certificate is served without a restart", func(t *testing.T) {
		serial := renewCertificate(t, wio.LocalServingCertDir)
		envtest.Until(t, "the webhook server to serve the renewed certificate", func() bool {
			got, err := servedSerial(addr)
			return err == nil && got.Cmp(serial) == 0
		})
	})
}

// TestNginxTranslations applies, through kubectl, an Ingress with
// ingress-nginx's rewrite-target and CORS annotations to a cluster where
// ingressguard also reconciles: it is admitted, and the VirtualService the
// reconciler writes for its host carries both.
func TestNginxTranslations(t *testing.T) {
	h := start(t, func(o *server.Options) { o.Reconcile = true })
	for _, m := range []string{"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istio-system\n"} {
		if out, errOut, ok := h.kubectl(t, m, "apply", "-f", "-"); !ok {
			t.Fatalf("kubectl apply failed:\n%s%s", out, errOut)
		}
	}
	out, errOut, ok := h.kubectl(t, rewriteCORSIngress, "apply", "-f", "-")
	t.Logf("$ kubectl apply -f rewrite-cors.yaml\n%s%s", errOut, out)
	if !ok {
		t.Fatalf("rejected:\n%s", errOut)
	}
	contains(t, "kubectl's output", out, "ingress.networking.k8s.io/rewrite-cors created")
	name := convert.ObjectName("rewrite.example.com")
	want := `/ https://app.example.com ["GET","POST"]`
	var got string
	read := func() string {
		got, _, _ = h.kubectl(t, "", "get", "virtualservice", name, "-n", "istio-system", "-o",
			`jsonpath={.spec.http[0].rewrite.uriRegexRewrite.rewrite} {.spec.http[0].corsPolicy.allowOrigins[0].exact} {.spec.http[0].corsPolicy.allowMethods}`)
		return got
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last read of the VirtualService's rewrite, origin and methods: %q, want %q", got, want)
		}
	})
	envtest.Until(t, "the reconciler to write VirtualService istio-system/"+name+" with the rewrite and the corsPolicy", func() bool {
		return read() == want
	})
	// An edit of an annotation alone (no new generation) reaches it too.
	edited := strings.Replace(rewriteCORSIngress, "rewrite-target: /", "rewrite-target: /v2", 1)
	if out, errOut, ok := h.kubectl(t, edited, "apply", "-f", "-"); !ok {
		t.Fatalf("kubectl apply of the edit failed:\n%s%s", out, errOut)
	}
	want = `/v2 https://app.example.com ["GET","POST"]`
	envtest.Until(t, "the reconciler to write the edited rewrite-target", func() bool {
		return read() == want
	})
}
