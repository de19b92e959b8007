package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/convert"
)

// examples is the repository's examples folder.
var examples = filepath.Join("..", "..", "examples")

func example(name string) string { return filepath.Join(examples, name) }

// run executes the command line in-process and returns its output and
// exit status.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// inOrder fails t unless out contains each of wants, in this order, and
// returns what follows the last.
func inOrder(t *testing.T, out string, wants []string) string {
	t.Helper()
	rest := out
	for _, want := range wants {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("stdout lacks %q (in this order):\n%s", want, out)
		}
		rest = rest[i+len(want):]
	}
	return rest
}

// istioObjects parses convert's output.
func istioObjects(t *testing.T, out, format string) ([]*istionet.Gateway, []*istionet.VirtualService) {
	t.Helper()
	var docs [][]byte
	if format == "json" {
		var list struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Items      []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if list.APIVersion != "v1" || list.Kind != "List" {
			t.Fatalf("output is a %s %s, want a v1 List", list.APIVersion, list.Kind)
		}
		for _, it := range list.Items {
			docs = append(docs, it)
		}
	} else {
		for _, d := range strings.Split(out, "\n---\n") {
			docs = append(docs, []byte(d))
		}
	}
	var gws []*istionet.Gateway
	var vss []*istionet.VirtualService
	for _, d := range docs {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(d, &head); err != nil {
			t.Fatalf("document does not parse: %v\n%s", err, d)
		}
		if head.APIVersion != "networking.istio.io/v1" {
			t.Fatalf("apiVersion %q, want networking.istio.io/v1", head.APIVersion)
		}
		switch head.Kind {
		case "Gateway":
			var gw istionet.Gateway
			if err := yaml.UnmarshalStrict(d, &gw); err != nil {
				t.Fatalf("Gateway does not parse: %v\n%s", err, d)
			}
			gws = append(gws, &gw)
		case "VirtualService":
			if len(gws) == 0 {
				t.Errorf("VirtualService before the Gateways")
			}
			var vs istionet.VirtualService
			if err := yaml.UnmarshalStrict(d, &vs); err != nil {
				t.Fatalf("VirtualService does not parse: %v\n%s", err, d)
			}
			vss = append(vss, &vs)
		default:
			t.Fatalf("unexpected kind %q", head.Kind)
		}
	}
	return gws, vss
}

func TestConvertExamples(t *testing.T) {
	tests := []struct {
		name     string
		files    []string
		format   string
		match    string // the match of the httpbin route
		warnings int
	}{
		{name: "annotation, yaml", files: []string{"ingress-annotation.yaml"}, format: "yaml", match: "/status/", warnings: 1},
		{name: "annotation, json", files: []string{"ingress-annotation.yaml"}, format: "json", match: "/status/", warnings: 1},
		{name: "IngressClass, with the Service", files: []string{"ingress-class.yaml", "httpbin-service.yaml"}, format: "yaml", match: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"convert", "-o", tt.format}
			for _, f := range tt.files {
				args = append(args, "-f", example(f))
			}
			out, errOut, code := run(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			gws, vss := istioObjects(t, out, tt.format)
			if len(gws) != 1 || len(vss) != 1 {
				t.Fatalf("got %d Gateways and %d VirtualServices, want 1 each", len(gws), len(vss))
			}
			gw, vs := gws[0], vss[0]
			if gw.Namespace != "istio-system" || gw.Spec.Selector["istio"] != "ingressgateway" {
				t.Errorf("Gateway %s/%s selects %v", gw.Namespace, gw.Name, gw.Spec.Selector)
			}
			if len(vs.Spec.Hosts) != 1 || vs.Spec.Hosts[0] != "httpbin.example.com" || len(vs.Spec.Gateways) != 1 || vs.Spec.Gateways[0] != gw.Name {
				t.Errorf("VirtualService hosts %v, gateways %v; want httpbin.example.com on %s", vs.Spec.Hosts, vs.Spec.Gateways, gw.Name)
			}
			route := vs.Spec.Http[0]
			if d := route.Route[0].Destination; d.Host != "httpbin.default.svc.cluster.local" || d.Port.Number != 8000 {
				t.Errorf("destination %s:%d, want httpbin.default.svc.cluster.local:8000", d.Host, d.Port.Number)
			}
			if m := route.Match[len(route.Match)-1].Uri.GetPrefix(); m != tt.match {
				t.Errorf("last match prefix %q, want %q", m, tt.match)
			}
			summary := fmt.Sprintf("1 Ingress converted, 0 errors, %s\n", plural(tt.warnings, "warning", "warnings"))
			if !strings.HasSuffix(errOut, summary) {
				t.Errorf("stderr does not end with %q:\n%s", summary, errOut)
			}
			if strings.Count(errOut, "\n") != tt.warnings+1 {
				t.Errorf("stderr has other lines than %d warnings and the summary:\n%s", tt.warnings, errOut)
			}
		})
	}
}

func TestConvertIsDeterministic(t *testing.T) {
	args := []string{"convert", "-f", example("invalid"), "-f", filepath.Join("testdata", "mixed.yaml"), "--ingress-controller-mode=DEFAULT"}
	first, _, _ := run(t, "", args...)
	for range 3 {
		if out, _, _ := run(t, "", args...); out != first {
			t.Fatalf("outputs differ:\n%s\n----\n%s", first, out)
		}
	}
}

func TestConvertStdin(t *testing.T) {
	in := `{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
	 "metadata": {"name": "web", "namespace": "shop"},
	 "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}`
	out, errOut, code := run(t, in, "convert", "-f", "-", "--ingress-controller-mode", "DEFAULT", "--gateway-namespace", "gw", "--domain-suffix", "example.internal")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	gws, vss := istioObjects(t, out, "yaml")
	if len(gws) != 1 || len(vss) != 1 || gws[0].Namespace != "gw" {
		t.Fatalf("got %d Gateways and %d VirtualServices, want 1 each in gw:\n%s", len(gws), len(vss), out)
	}
	if d := vss[0].Spec.Http[0].Route[0].Destination; d.Host != "web.shop.svc.example.internal" {
		t.Errorf("destination host %q", d.Host)
	}
}

func TestConvertErrors(t *testing.T) {
	out, errOut, code := run(t, "", "convert", "-f", example("ingress-annotation.yaml"), "-f", example(filepath.Join("invalid", "regex-prefix.yaml")))
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	// One Ingress's errors do not stop the other's output; the invalid
	// path of the other gets no route, and its host nothing at all.
	if gws, _ := istioObjects(t, out, "yaml"); len(gws) != 1 || gws[0].Spec.Servers[0].Hosts[0] != "httpbin.example.com" {
		t.Errorf("got %d Gateways, want the one of httpbin.example.com:\n%s", len(gws), out)
	}
	for _, want := range []string{
		filepath.Join(examples, "invalid", "regex-prefix.yaml") + `: Ingress default/api: spec.rules[0].http.paths[0].path: Invalid value: "/api/.*": `,
		"2 Ingresses converted, 1 error, 1 warning\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestCheckInvalidExamples(t *testing.T) {
	tests := []struct {
		file    string
		ingress string
		field   string
		value   string
		fix     string
	}{
		{file: "regex-prefix.yaml", ingress: "default/api", field: "spec.rules[0].http.paths[0].path", value: `"/api/.*"`, fix: "use pathType: Prefix with path: /api"},
		{file: "regex-anchors.yaml", ingress: "default/users", field: "spec.rules[0].http.paths[0].path", value: `"^/v[0-9]+/users$"`, fix: "express it as one or more paths with pathType Exact or Prefix"},
		{file: "path-without-slash.yaml", ingress: "default/shop", field: "spec.rules[0].http.paths[0].path", value: `"cart"`, fix: `write it as "/cart"`},
		{file: "double-slash.yaml", ingress: "default/docs", field: "spec.rules[0].http.paths[0].path", value: `"/docs//latest"`, fix: "use single slashes"},
		{file: "tls-secret-missing.yaml", ingress: "web/web", field: "spec.tls[0].secretName", value: `"web-tls"`, fix: "kubectl -n istio-system create secret tls web-tls"},
		{file: "tls-without-secret.yaml", ingress: "default/blog", field: "spec.tls[0].secretName", value: "Required value", fix: `name a kubernetes.io/tls Secret in namespace "istio-system"`},
		{file: "resource-backend.yaml", ingress: "default/assets", field: "spec.rules[0].http.paths[0].backend.resource", value: `"storage.example.com/Bucket/static-assets"`, fix: "use backend.service"},
		{file: "tls-single-label.yaml", ingress: "default/intranet", field: "spec.tls[0].hosts[0]", value: `"intranet"`, fix: "name the host by a fully qualified name"},
		{file: "named-port-missing.yaml", ingress: "default/frontend", field: "spec.rules[0].http.paths[0].backend.service.port.name", value: `"http"`, fix: "use one of its ports (web=8080)"},
		{file: "nginx-configuration-snippet.yaml", ingress: "default/legacy", field: "metadata.annotations[nginx.ingress.kubernetes.io/configuration-snippet]", value: "Forbidden: under ingress-nginx this annotation inserts raw nginx configuration", fix: `add "configuration-snippet" to annotation ingressguard.io/accept-annotations`},
		{file: "nginx-auth-url.yaml", ingress: "default/dashboard", field: "metadata.annotations[nginx.ingress.kubernetes.io/auth-url]", value: "a private route becomes public", fix: "CUSTOM AuthorizationPolicy on the ingress gateway"},
		{file: "nginx-auth-type.yaml", ingress: "default/admin", field: "metadata.annotations[nginx.ingress.kubernetes.io/auth-type]", value: "(with auth-realm, auth-secret)", fix: "RequestAuthentication"},
		{file: "nginx-auth-tls.yaml", ingress: "default/partners", field: "metadata.annotations[nginx.ingress.kubernetes.io/auth-tls-secret]", value: "accept clients without a certificate", fix: "tls.mode MUTUAL"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			file := filepath.Join(examples, "invalid", tt.file)
			out, errOut, code := run(t, "", "check", "-f", file)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 2 || lines[1] != "1 Ingress checked, 1 error, 0 warnings" {
				t.Fatalf("want one error and the summary, got:\n%s", out)
			}
			prefix := fmt.Sprintf("%s: Ingress %s: %s: ", file, tt.ingress, tt.field)
			if !strings.HasPrefix(lines[0], prefix) {
				t.Errorf("line does not start with %q:\n%s", prefix, lines[0])
			}
			for _, want := range []string{tt.value, tt.fix} {
				if !strings.Contains(lines[0], want) {
					t.Errorf("line lacks %q:\n%s", want, lines[0])
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // in this order; the last ends the output
		stderr string
	}{{
		name:   "valid example",
		args:   []string{"-f", example("ingress-class.yaml"), "-f", example("httpbin-service.yaml")},
		stdout: []string{"1 Ingress checked, 0 errors, 0 warnings\n"},
	}, {
		name: "warnings only",
		args: []string{"-f", example("ingress-annotation.yaml")},
		stdout: []string{example("ingress-annotation.yaml") + ": Ingress default/ingress: warning: metadata.annotations[kubernetes.io/ingress.class]: deprecated since Kubernetes 1.18; set spec.ingressClassName to an IngressClass whose controller is istio.io/ingress-controller instead\n" +
			"1 Ingress checked, 0 errors, 1 warning\n"},
	}, {
		name: "a whole folder, in file order",
		args: []string{"-f", example("invalid")},
		code: 1,
		stdout: []string{
			example("invalid/double-slash.yaml") + ": Ingress default/docs: ",
			example("invalid/named-port-missing.yaml") + ": Ingress default/frontend: ",
			example("invalid/nginx-auth-tls.yaml") + ": Ingress default/partners: ",
			example("invalid/nginx-auth-type.yaml") + ": Ingress default/admin: ",
			example("invalid/nginx-auth-url.yaml") + ": Ingress default/dashboard: ",
			example("invalid/nginx-configuration-snippet.yaml") + ": Ingress default/legacy: ",
			example("invalid/path-without-slash.yaml") + ": Ingress default/shop: ",
			example("invalid/regex-anchors.yaml") + ": Ingress default/users: ",
			example("invalid/regex-prefix.yaml") + ": Ingress default/api: ",
			example("invalid/resource-backend.yaml") + ": Ingress default/assets: ",
			example("invalid/tls-secret-missing.yaml") + ": Ingress web/web: ",
			example("invalid/tls-single-label.yaml") + ": Ingress default/intranet: ",
			example("invalid/tls-without-secret.yaml") + ": Ingress default/blog: ",
			"13 Ingresses checked, 13 errors, 0 warnings\n",
		},
	}, {
		name:   "the same object twice, identical",
		args:   []string{"-f", example("ingress-class.yaml"), "-f", example("ingress-class.yaml")},
		stdout: []string{"1 Ingress checked, 0 errors, 0 warnings\n"},
	}, {
		name:   "Ingresses that are not ours",
		args:   []string{"-f", filepath.Join("testdata", "mixed.yaml")},
		stdout: []string{"0 Ingresses checked, 0 errors, 0 warnings\n"},
		stderr: "note: testdata/mixed.yaml: document 6 (line 61): ignoring Deployment shop (not read by ingressguard)\n" +
			`note: Ingress shop/by-annotation is not ours (annotation kubernetes.io/ingress.class is "nginx"; the ingress class setting is "istio")` + "\n" +
			`note: Ingress shop/by-class is not ours (IngressClass nginx has controller "k8s.io/ingress-nginx")` + "\n" +
			"note: Ingress shop/missing-class is not ours (IngressClass internal does not exist and the ingress controller mode is STRICT; give its manifest with -f, or read the cluster with --cluster)\n" +
			"note: Ingress shop/no-class is not ours (no class, no default IngressClass, and the ingress controller mode is STRICT)\n",
	}, {
		name:   "the IngressClass the install creates is assumed for files",
		args:   []string{"-f", example("invalid/regex-prefix.yaml")},
		code:   1,
		stdout: []string{"1 Ingress checked, 1 error, 0 warnings\n"},
		stderr: "note: assuming IngressClass istio with controller istio.io/ingress-controller, as ingressguard installs it (--assume-ingress-class=false to turn off)\n",
	}, {
		name:   "no assumed IngressClass",
		args:   []string{"-f", example("invalid/regex-prefix.yaml"), "--assume-ingress-class=false"},
		stdout: []string{"0 Ingresses checked, 0 errors, 0 warnings\n"},
		stderr: "note: Ingress default/api is not ours (IngressClass istio does not exist and the ingress controller mode is STRICT; give its manifest with -f, or read the cluster with --cluster)\n",
	}, {
		name:   "DEFAULT mode takes the Ingresses without class",
		args:   []string{"-f", filepath.Join("testdata", "mixed.yaml"), "--ingress-controller-mode=default"},
		stdout: []string{"2 Ingresses checked, 0 errors, 0 warnings\n"},
	}, {
		name: "a refusal accepted by the admin's flag is a warning",
		args: []string{"-f", example("invalid/nginx-auth-url.yaml"), "--accept-annotations", "auth-url"},
		stdout: []string{example("invalid/nginx-auth-url.yaml") + ": Ingress default/dashboard: warning: metadata.annotations[nginx.ingress.kubernetes.io/auth-url]: accepted by the cluster's --accept-annotations: ",
			"a private route becomes public",
			"1 Ingress checked, 0 errors, 1 warning\n"},
	}, {
		name:   "another ingress class",
		args:   []string{"-f", filepath.Join("testdata", "mixed.yaml"), "--ingress-class=nginx"},
		stdout: []string{"1 Ingress checked, 0 errors, 1 warning\n"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"check"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			rest := inOrder(t, out, tt.stdout)
			if rest != "" {
				t.Errorf("stdout does not end with %q:\n%s", tt.stdout[len(tt.stdout)-1], out)
			}
			if tt.stderr != "" && errOut != filepath.FromSlash(tt.stderr) {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut, tt.stderr)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	bad := func(name string) string { return filepath.Join("testdata", "bad", name) }
	tests := []struct {
		name string
		args []string
		want string // the whole of stderr
	}{{
		name: "invalid YAML",
		args: []string{"check", "-f", bad("invalid-yaml.yaml")},
		want: bad("invalid-yaml.yaml") + ": document 2 (line 9): invalid YAML: line 13: mapping values are not allowed in this context",
	}, {
		name: "unknown apiVersion",
		args: []string{"convert", "-f", bad("unknown-apiversion.yaml")},
		want: bad("unknown-apiversion.yaml") + `: document 2 (line 8): unknown apiVersion "networking.k8s.io/v9" for kind Ingress: ingressguard reads Ingress as networking.k8s.io/v1`,
	}, {
		name: "Ingress without name",
		args: []string{"check", "-f", bad("no-name.yaml")},
		want: bad("no-name.yaml") + ": document 1 (line 1): Ingress has no metadata.name",
	}, {
		name: "missing file",
		args: []string{"check", "-f", example("nope.yaml")},
		want: example("nope.yaml") + ": no such file or directory",
	}, {
		name: "folder without manifests",
		args: []string{"check", "-f", filepath.Join("testdata", "empty-dir")},
		want: filepath.Join("testdata", "empty-dir") + ": no *.yaml, *.yml or *.json file in this directory",
	}, {
		name: "two different objects of the same name",
		args: []string{"check", "-f", example("ingress-annotation.yaml"), "-f", bad("redefined.yaml")},
		want: "Ingress default/ingress is defined twice, in " + example("ingress-annotation.yaml") + " (document 1) and in " + bad("redefined.yaml") + " (document 1): give only one of them",
	}, {
		name: "standard input twice",
		args: []string{"check", "-f", "-", "-f", "-"},
		want: "-f -: standard input can be read only once",
	}, {
		name: "nothing to read",
		args: []string{"check"},
		want: "nothing to read: name manifests with -f FILE|DIR|-, or read a cluster with --cluster, --kubeconfig or --context",
	}, {
		name: "a file without -f",
		args: []string{"convert", "x.yaml"},
		want: `unexpected argument "x.yaml": name input files with -f (see ingressguard convert --help)`,
	}, {
		name: "unknown flag",
		args: []string{"check", "--nope"},
		want: "unknown flag: --nope (see ingressguard check --help)",
	}, {
		name: "bad mode",
		args: []string{"check", "-f", "-", "--ingress-controller-mode", "OFF"},
		want: `invalid settings: ingress controller mode "OFF": must be STRICT or DEFAULT`,
	}, {
		name: "bad selector",
		args: []string{"convert", "-f", "-", "--gateway-selector", "istio"},
		want: `invalid argument "istio" for "--gateway-selector" flag: gateway selector "istio": `,
	}, {
		name: "bad gateway namespace",
		args: []string{"convert", "-f", "-", "--gateway-namespace", "Istio_System"},
		want: `invalid settings: gateway namespace "Istio_System": `,
	}, {
		name: "accepting an annotation that is not refused",
		args: []string{"check", "-f", "-", "--accept-annotations", "auth-url,proxy-body-size"},
		want: `invalid settings: accept annotations "proxy-body-size": not refused annotations of ingress-nginx; name refused ones such as auth-url, or "*"`,
	}, {
		name: "bad output format",
		args: []string{"convert", "-f", "-", "-o", "xml"},
		want: `unknown output format "xml": use yaml or json`,
	}, {
		name: "bad output format of check",
		args: []string{"check", "-f", "-", "-o", "yaml"},
		want: `unknown output format "yaml": use text or json`,
	}, {
		name: "unreadable kubeconfig",
		args: []string{"check", "--kubeconfig", filepath.Join("testdata", "nope")},
		want: "loading kubeconfig: ",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.HasPrefix(errOut, "ingressguard: "+tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr:\n%s\nwant one line starting with:\ningressguard: %s", errOut, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "version")
	if want := fmt.Sprintf("ingressguard dev (%s)\n", runtime.Version()); out != want || code != 0 {
		t.Errorf("version printed %q with exit %d, want %q", out, code, want)
	}
}

// migration is an input with Ingresses of class nginx, carrying annotations
// of ingress-nginx, beside an Ingress of Istio.
var migration = filepath.Join("testdata", "migration.yaml")

// Annotations of ingress-nginx on the Ingresses of migration.
var (
	legacyAnnotations = []string{
		"nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/configuration-snippet",
		"nginx.ingress.kubernetes.io/proxy-body-size", "nginx.ingress.kubernetes.io/rewrite-target",
		"nginx.ingress.kubernetes.io/ssl-redirect",
	}
	apiAnnotations        = []string{"nginx.ingress.kubernetes.io/proxy-body-size", "nginx.ingress.kubernetes.io/rewrite-target"}
	storefrontAnnotations = []string{"nginx.ingress.kubernetes.io/ssl-redirect"}
)

// wantByAnswer groups annotation keys by convert.AnnotationAnswer, the
// catalogue the report must follow.
func wantByAnswer(t *testing.T, keys []string) map[convert.Answer][]string {
	t.Helper()
	groups := map[convert.Answer][]string{}
	for _, k := range keys {
		a, ok := convert.AnnotationAnswer(k)
		if !ok {
			t.Fatalf("AnnotationAnswer(%q) has no answer", k)
		}
		groups[a] = append(groups[a], k)
	}
	return groups
}

// answerLines are the report's lines of the annotations of one Ingress.
func answerLines(t *testing.T, prefix string, keys []string) []string {
	t.Helper()
	groups := wantByAnswer(t, keys)
	var lines []string
	for _, a := range []convert.Answer{convert.Translated, convert.Refused, convert.Ignored} {
		if len(groups[a]) > 0 {
			lines = append(lines, prefix+"annotations "+string(a)+": "+strings.Join(groups[a], ", ")+"\n")
		}
	}
	return lines
}

// TestCheckAsClass: with --as-class the Ingresses of class nginx are
// checked as Istio's: their annotations by answer, their errors, the
// conflict with the Istio Ingress on the same host and path, and the
// table of annotations by count. Without it they are ignored as before.
func TestCheckAsClass(t *testing.T) {
	legacy := migration + ": Ingress shop/legacy: "
	api := migration + ": Ingress shop/api: "
	conflict := api + `warning: spec.rules[0].http.paths[0]: host "shop.example.com", pathType: Prefix with path: / is already routed to storefront.shop.svc.cluster.local:80 by Ingress shop/storefront (spec.rules[0].http.paths[0]), which is older and wins; this path gets no traffic` + "\n"
	regex := api + `spec.rules[0].http.paths[1].path: Invalid value: "/v1/(.+)": "(" is regular-expression syntax`
	// Each row of the table: annotation, answer, number of Ingresses.
	storefront := migration + ": Ingress shop/storefront: "
	type row struct {
		annotation string
		ingresses  int
	}
	// Most Ingresses first, then by name.
	table := []row{
		{"nginx.ingress.kubernetes.io/proxy-body-size", 2}, {"nginx.ingress.kubernetes.io/rewrite-target", 2},
		{"nginx.ingress.kubernetes.io/ssl-redirect", 2}, {"nginx.ingress.kubernetes.io/auth-url", 1},
		{"nginx.ingress.kubernetes.io/configuration-snippet", 1},
	}
	treated := func() []string {
		want := answerLines(t, storefront, storefrontAnnotations)
		want = append(want, answerLines(t, legacy, legacyAnnotations)...)
		want = append(want, answerLines(t, api, apiAnnotations)...)
		// Errors come before warnings.
		return append(want, regex, conflict, "\nANNOTATION ")
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string // in this order
		table   []row    // the table after the header; none: stdout is exactly the stdout strings
		checked string   // the start of the summary line after the table
		stderr  []string
	}{{
		name:   "without --as-class, the nginx Ingresses are ignored, and no report",
		stdout: []string{"1 Ingress checked, 0 errors, 0 warnings\n"},
		stderr: []string{`note: Ingress shop/legacy is not ours (IngressClass nginx has controller "k8s.io/ingress-nginx")`},
	}, {
		name:    "--as-class istio, the report of Istio's own Ingresses",
		args:    []string{"--as-class", "istio"},
		stdout:  append(answerLines(t, storefront, storefrontAnnotations), "\nANNOTATION "),
		table:   []row{{"nginx.ingress.kubernetes.io/ssl-redirect", 1}},
		checked: "1 Ingress checked, ",
		stderr:  []string{"note: checking 1 Ingress of class istio as Istio's (--as-class)\n"},
	}, {
		name:    "by class name",
		args:    []string{"--as-class", "nginx"},
		code:    1,
		stdout:  treated(),
		table:   table,
		checked: "3 Ingresses checked, ",
		stderr:  []string{"note: checking 2 Ingresses of class nginx as Istio's (--as-class)\n"},
	}, {
		name:    "by controller",
		args:    []string{"--as-class", "k8s.io/ingress-nginx"},
		code:    1,
		stdout:  treated(),
		table:   table,
		checked: "3 Ingresses checked, ",
	}, {
		name:    "a comma list",
		args:    []string{"--as-class", "traefik,nginx"},
		code:    1,
		stdout:  treated(),
		table:   table,
		checked: "3 Ingresses checked, ",
	}, {
		name:    "repeated",
		args:    []string{"--as-class", "traefik", "--as-class=nginx"},
		code:    1,
		stdout:  treated(),
		table:   table,
		checked: "3 Ingresses checked, ",
	}, {
		name:    "a class no Ingress has",
		args:    []string{"--as-class", "traefik"},
		stdout:  append(answerLines(t, storefront, storefrontAnnotations), "\nANNOTATION "),
		table:   []row{{"nginx.ingress.kubernetes.io/ssl-redirect", 1}},
		checked: "1 Ingress checked, ",
		stderr:  []string{"note: no Ingress is of class traefik (--as-class)\n"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"check", "-f", migration}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			rest := inOrder(t, out, tt.stdout)
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if tt.table == nil {
				if want := strings.Join(tt.stdout, ""); out != want {
					t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
				}
				return
			}
			// The rest of the header, the rows, a blank line and the summary line.
			head, body, _ := strings.Cut(rest, "\n")
			if got := strings.Fields(head); !slices.Equal(got, []string{"ANSWER", "INGRESSES"}) {
				t.Errorf("header ANNOTATION %q, want ANSWER and INGRESSES", got)
			}
			lines := strings.Split(body, "\n")
			n := len(tt.table)
			if len(lines) != n+3 || lines[n] != "" || !strings.HasPrefix(lines[n+1], tt.checked) || lines[n+2] != "" {
				t.Fatalf("after the header, want %d rows, a blank line and a summary line starting %q:\n%s", n, tt.checked, rest)
			}
			for i, r := range tt.table {
				a, _ := convert.AnnotationAnswer(r.annotation)
				if got, want := strings.Fields(lines[i]), []string{r.annotation, string(a), fmt.Sprint(r.ingresses)}; !slices.Equal(got, want) {
					t.Errorf("row %d is %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

// checkReport is the JSON schema of check -o json as the README documents it.
type checkReport struct {
	Ingresses []struct {
		Source, Namespace, Name, Class string
		AsClass                        bool
		Annotations                    map[string][]string
		Errors, Warnings               []struct{ Field, Message string }
	}
	Annotations []struct {
		Annotation, Answer string
		Ingresses          int
	}
	NotOurs []struct{ Namespace, Name string }
	Summary struct{ Ingresses, Errors, Warnings int }
}

// TestCheckAsClassJSON decodes the JSON report, strictly: it says what the
// text report says.
func TestCheckAsClassJSON(t *testing.T) {
	type ingress struct {
		class    string
		asClass  bool
		keys     []string
		warnings []string // some of them, by field and message start
		errors   []string
	}
	tests := []struct {
		name      string
		args      []string
		code      int
		ingresses map[string]ingress
		counts    map[string]int
		notOurs   []string
	}{{
		name:      "without --as-class",
		ingresses: map[string]ingress{"shop/storefront": {class: "istio", keys: storefrontAnnotations}},
		counts:    map[string]int{"nginx.ingress.kubernetes.io/ssl-redirect": 1},
		notOurs:   []string{"shop/api", "shop/legacy"},
	}, {
		name: "--as-class nginx",
		args: []string{"--as-class", "nginx"},
		code: 1,
		ingresses: map[string]ingress{
			"shop/storefront": {class: "istio", keys: storefrontAnnotations, warnings: []string{`spec.rules[0].http.paths[0]: host "shop.example.com", pathType: Prefix with path: / is also routed to shop.shop.svc.cluster.local:80 by Ingress shop/api`}},
			"shop/legacy":     {class: "nginx", asClass: true, keys: legacyAnnotations},
			"shop/api": {class: "nginx", asClass: true, keys: apiAnnotations,
				errors:   []string{`spec.rules[0].http.paths[1].path: Invalid value: "/v1/(.+)"`},
				warnings: []string{`spec.rules[0].http.paths[0]: host "shop.example.com", pathType: Prefix with path: / is already routed to storefront.shop.svc.cluster.local:80`}},
		},
		counts: map[string]int{
			"nginx.ingress.kubernetes.io/proxy-body-size": 2, "nginx.ingress.kubernetes.io/rewrite-target": 2,
			"nginx.ingress.kubernetes.io/auth-url": 1, "nginx.ingress.kubernetes.io/configuration-snippet": 1,
			"nginx.ingress.kubernetes.io/ssl-redirect": 2,
		},
		notOurs: []string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"check", "-f", migration, "-o", "json"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			var got checkReport
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not the report: %v\n%s", err, out)
			}
			if dec.More() {
				t.Errorf("stdout has more than one JSON document:\n%s", out)
			}
			errors, warnings := 0, 0
			for _, ing := range got.Ingresses {
				key := ing.Namespace + "/" + ing.Name
				want, ok := tt.ingresses[key]
				if !ok {
					t.Errorf("Ingress %s is in the report", key)
					continue
				}
				delete(tt.ingresses, key)
				if ing.Source != migration || ing.Class != want.class || ing.AsClass != want.asClass {
					t.Errorf("%s: source %q, class %q, asClass %v; want %q, %q, %v", key, ing.Source, ing.Class, ing.AsClass, migration, want.class, want.asClass)
				}
				groups := wantByAnswer(t, want.keys)
				for _, a := range []convert.Answer{convert.Translated, convert.Refused, convert.Ignored} {
					if g, ok := ing.Annotations[string(a)]; !ok || !slices.Equal(g, groups[a]) && len(g)+len(groups[a]) > 0 {
						t.Errorf("%s: annotations %s = %q (present %v), want %q", key, a, g, ok, groups[a])
					}
				}
				if len(ing.Annotations) != 3 {
					t.Errorf("%s: annotations has keys %v, want translated, refused and ignored", key, slices.Sorted(maps.Keys(ing.Annotations)))
				}
				for _, p := range []struct {
					kind     string
					got      []struct{ Field, Message string }
					contains []string
				}{{"errors", ing.Errors, want.errors}, {"warnings", ing.Warnings, want.warnings}} {
					for _, c := range p.contains {
						if !slices.ContainsFunc(p.got, func(g struct{ Field, Message string }) bool { return strings.HasPrefix(g.Field+": "+g.Message, c) }) {
							t.Errorf("%s: %s %+v lack %q", key, p.kind, p.got, c)
						}
					}
				}
				errors += len(ing.Errors)
				warnings += len(ing.Warnings)
			}
			if len(tt.ingresses) > 0 {
				t.Errorf("the report lacks Ingresses %v", slices.Sorted(maps.Keys(tt.ingresses)))
			}
			counts := map[string]int{}
			for _, c := range got.Annotations {
				counts[c.Annotation] = c.Ingresses
				if a, _ := convert.AnnotationAnswer(c.Annotation); c.Answer != string(a) {
					t.Errorf("annotation %s has answer %q, want %q", c.Annotation, c.Answer, a)
				}
			}
			if !maps.Equal(counts, tt.counts) {
				t.Errorf("annotation counts %v, want %v", counts, tt.counts)
			}
			var notOurs []string
			for _, n := range got.NotOurs {
				notOurs = append(notOurs, n.Namespace+"/"+n.Name)
			}
			if !slices.Equal(notOurs, tt.notOurs) && len(notOurs)+len(tt.notOurs) > 0 {
				t.Errorf("notOurs %v, want %v", notOurs, tt.notOurs)
			}
			if s := got.Summary; s.Ingresses != len(got.Ingresses) || s.Errors != errors || s.Warnings != warnings || (code == 1) != (errors > 0) {
				t.Errorf("summary %+v with exit %d; the Ingresses have %d errors and %d warnings", s, code, errors, warnings)
			}
			// The text report sums up alike.
			text, _, _ := run(t, "", append([]string{"check", "-f", migration}, tt.args...)...)
			if line := fmt.Sprintf("%s checked, %s, %s\n", plural(got.Summary.Ingresses, "Ingress", "Ingresses"),
				plural(got.Summary.Errors, "error", "errors"), plural(got.Summary.Warnings, "warning", "warnings")); !strings.HasSuffix(text, line) {
				t.Errorf("text report does not end with %q:\n%s", line, text)
			}
		})
	}
}

// TestCheckReportAnswersPerIngress: the report answers an annotation as
// admission does on each Ingress. auth-signin only modifies auth-url:
// with it, it is refused with it; alone it did nothing under ingress-nginx
// either and is only warned of as ignored, so the table has a row for
// each answer.
func TestCheckReportAnswersPerIngress(t *testing.T) {
	ingress := func(name string, anns ...string) string {
		m := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name + "\n  namespace: shop\n  annotations:\n    kubernetes.io/ingress.class: istio\n"
		for i := 0; i < len(anns); i += 2 {
			m += fmt.Sprintf("    nginx.ingress.kubernetes.io/%s: %q\n", anns[i], anns[i+1])
		}
		return m + "spec:\n  rules:\n  - host: " + name + ".example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 80\n"
	}
	signin := "https://auth.example.com/oauth2/start"
	in := ingress("guarded", "auth-url", "https://auth.example.com/oauth2/auth", "auth-signin", signin) + "---\n" + ingress("alone", "auth-signin", signin)
	out, errOut, _ := run(t, in, "check", "-f", "-", "-o", "json")
	var got checkReport
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s%s", err, out, errOut)
	}
	const key = "nginx.ingress.kubernetes.io/auth-signin"
	answers := map[string]map[string][]string{}
	for _, ing := range got.Ingresses {
		answers[ing.Name] = ing.Annotations
	}
	if g := answers["guarded"]["refused"]; !slices.Contains(g, key) {
		t.Errorf("with auth-url: refused = %q, want it to hold auth-signin", g)
	}
	if g := answers["alone"]["ignored"]; !slices.Equal(g, []string{key}) || len(answers["alone"]["refused"]) != 0 {
		t.Errorf("alone: ignored = %q, refused = %q; want auth-signin ignored only", g, answers["alone"]["refused"])
	}
	rows := map[string]int{}
	for _, c := range got.Annotations {
		if c.Annotation == key {
			rows[c.Answer] = c.Ingresses
		}
	}
	if want := map[string]int{"refused": 1, "ignored": 1}; !maps.Equal(rows, want) {
		t.Errorf("table rows of auth-signin by answer: %v, want %v", rows, want)
	}
}
