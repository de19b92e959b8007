package e2e_test

import (
	"fmt"
	"strings"
	"testing"
)

// nginxIngress is an Ingress of ours carrying the given annotation lines
// (already indented under metadata.annotations).
func nginxIngress(name, annotations string) string {
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %s
  namespace: default
  annotations:
    kubernetes.io/ingress.class: istio
%s
spec:
  rules:
  - host: %s.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: %s
            port:
              number: 8080
`, name, annotations, name, name)
}

// TestNginxAnnotations is issue 15's refusals as a user moving off
// ingress-nginx meets them at kubectl apply: field errors on the
// annotations, an opt-out that turns one into a warning, and warnings for
// what Istio ignores.
func TestNginxAnnotations(t *testing.T) {
	h := start(t)
	apply := func(t *testing.T, m string) (string, string, bool) {
		t.Helper()
		out, errOut, ok := h.kubectl(t, m, "apply", "-f", "-")
		t.Logf("$ kubectl apply -f -\n%s%s", errOut, out)
		return out, errOut, ok
	}
	stored := func(t *testing.T, name string) bool {
		t.Helper()
		_, errOut, ok := h.kubectl(t, "", "get", "ingress", name, "-n", "default", "-o", "name")
		if !ok && !strings.Contains(errOut, "NotFound") {
			t.Fatalf("kubectl get ingress %s: %s", name, errOut)
		}
		return ok
	}
	const (
		snippet = `    nginx.ingress.kubernetes.io/configuration-snippet: |
      more_set_headers "X-Frame-Options: DENY";`
		authURL = `    nginx.ingress.kubernetes.io/auth-url: "https://oauth2.example.com/oauth2/auth"
    nginx.ingress.kubernetes.io/auth-signin: "https://oauth2.example.com/oauth2/start"`
	)

	for _, tc := range []struct {
		name, annotations string
		want              []string
	}{{
		name:        "snippet",
		annotations: snippet,
		want: []string{`The Ingress "snippet" is invalid: metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet]: Forbidden: under ingress-nginx this annotation inserts raw nginx configuration`,
			"CVE-2025-1974", `add "configuration-snippet" to annotation ingressguard.io/accept-annotations`},
	}, {
		name:        "oauth",
		annotations: authURL,
		want: []string{`The Ingress "oauth" is invalid: metadata.annotations[nginx.ingress.kubernetes.io/auth-url]: Forbidden: under ingress-nginx this annotation sends each request first to the authentication service`,
			"(with auth-signin)", "a private route becomes public", "CUSTOM AuthorizationPolicy on the ingress gateway", `add "auth-url" to annotation ingressguard.io/accept-annotations`},
	}} {
		t.Run(tc.name+": refused with a field error on the annotation, nothing stored", func(t *testing.T) {
			out, errOut, ok := apply(t, nginxIngress(tc.name, tc.annotations))
			if ok {
				t.Fatalf("accepted:\n%s", out)
			}
			contains(t, "kubectl's error", errOut, tc.want...)
			if stored(t, tc.name) {
				t.Error("a refused Ingress was stored")
			}
		})
	}

	accepted := nginxIngress("oauth", authURL+"\n    ingressguard.io/accept-annotations: auth-url")
	t.Run("accepted by its author: admitted, kubectl prints what is lost", func(t *testing.T) {
		out, errOut, ok := apply(t, accepted)
		if !ok {
			t.Fatalf("refused:\n%s", errOut)
		}
		contains(t, "kubectl's output", out, "ingress.networking.k8s.io/oauth created")
		contains(t, "kubectl's warnings", errOut,
			"Warning: metadata.annotations[nginx.ingress.kubernetes.io/auth-url]: accepted by annotation ingressguard.io/accept-annotations: under ingress-nginx",
			"a private route becomes public")
	})

	t.Run("an update that drops the acceptance is refused", func(t *testing.T) {
		_, errOut, ok := apply(t, nginxIngress("oauth", authURL))
		if ok {
			t.Fatal("admitted")
		}
		contains(t, "kubectl's error", errOut, "metadata.annotations[nginx.ingress.kubernetes.io/auth-url]: Forbidden")
	})

	t.Run("ignored annotations: admitted with a warning each", func(t *testing.T) {
		out, errOut, ok := apply(t, nginxIngress("uploads", `    nginx.ingress.kubernetes.io/proxy-body-size: 64m
    traefik.ingress.kubernetes.io/router.middlewares: default-auth@kubernetescrd`))
		if !ok {
			t.Fatalf("refused:\n%s", errOut)
		}
		contains(t, "kubectl's output", out, "ingress.networking.k8s.io/uploads created")
		contains(t, "kubectl's warnings", errOut,
			"Warning: metadata.annotations[nginx.ingress.kubernetes.io/proxy-body-size]: ignored by Istio: under ingress-nginx this annotation limits the request body",
			"Warning: metadata.annotations[traefik.ingress.kubernetes.io/router.middlewares]: ignored by Istio: an annotation of Traefik")
	})
}
