package manifest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	ingressYAML = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - host: example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
`
	classYAML = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: istio
spec:
  controller: istio.io/ingress-controller
`
	serviceYAML = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
  - name: http
    port: 80
`
	secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: web-tls
  namespace: istio-system
type: kubernetes.io/tls
data:
  tls.crt: ""
  tls.key: ""
`
	certificateYAML = `apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
  namespace: istio-system
spec:
  secretName: web-tls
  dnsNames: [example.com]
  issuerRef:
    name: letsencrypt
    kind: ClusterIssuer
`
	deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec: {}
`
)

// brief renders a document as "KIND NAMESPACE/NAME @INDEX" for comparison.
func brief(d Document) string {
	m := d.Object.(metav1.Object)
	kind := strings.TrimPrefix(fmt.Sprintf("%T", d.Object), "*")
	return fmt.Sprintf("%s %s/%s @%d", kind, m.GetNamespace(), m.GetName(), d.Index)
}

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		input string
		docs  []string
		notes []string
	}{{
		name:  "every kind kept, namespace defaulted except for IngressClass",
		input: ingressYAML + "---\n" + classYAML + "---\n" + serviceYAML + "---\n" + secretYAML + "---\n" + certificateYAML,
		docs: []string{
			"v1.Ingress default/web @1",
			"v1.IngressClass /istio @2",
			"v1.Service shop/web @3",
			"v1.Secret istio-system/web-tls @4",
			"v1.Certificate istio-system/web @5",
		},
	}, {
		name:  "other kinds are noted",
		input: deploymentYAML + "---\n" + ingressYAML + "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n---\napiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: knative}\n",
		docs:  []string{"v1.Ingress default/web @2"},
		notes: []string{
			"in.yaml: document 1 (line 1): ignoring Deployment web (not read by ingressguard)",
			"in.yaml: document 3 (line 24): ignoring Gateway gw (not read by ingressguard)",
			"in.yaml: document 4 (line 28): ignoring Service knative (not read by ingressguard)",
		},
	}, {
		name:  "empty documents, comments and a leading separator are skipped",
		input: "---\n# just a comment\n---\n\n---\n" + classYAML + "---\nnull\n---   # trailing comment\n",
		docs:  []string{"v1.IngressClass /istio @3"},
	}, {
		name:  "empty input",
		input: "",
	}, {
		name:  "CRLF line ends and a byte order mark",
		input: "\ufeff" + strings.ReplaceAll(classYAML+"---\n"+serviceYAML, "\n", "\r\n"),
		docs:  []string{"v1.IngressClass /istio @1", "v1.Service shop/web @2"},
	}, {
		name:  "YAML List",
		input: "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(classYAML), "\n", "\n  ") + "\n- " + strings.ReplaceAll(strings.TrimSpace(deploymentYAML), "\n", "\n  ") + "\n",
		docs:  []string{"v1.IngressClass /istio @1"},
		notes: []string{"in.yaml: document 1 (line 1): items[1]: ignoring Deployment web (not read by ingressguard)"},
	}, {
		name:  "JSON object",
		input: `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}`,
		docs:  []string{"v1.Service default/web @1"},
	}, {
		name:  "JSON List",
		input: `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "x"}}]}`,
		docs:  []string{"v1.Service default/a @1", "v1.Service x/b @1"},
	}, {
		name: "typed list whose items carry no type, as the API server returns them",
		input: `{"apiVersion": "networking.k8s.io/v1", "kind": "IngressList", "metadata": {"resourceVersion": "7"},
		  "items": [{"metadata": {"name": "a", "namespace": "x"}, "spec": {}}]}`,
		docs: []string{"v1.Ingress x/a @1"},
	}, {
		name:  "a stream of JSON objects",
		input: "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"a\"}}\n{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"b\"}}",
		docs:  []string{"v1.Service default/a @1"},
		notes: []string{"in.yaml: document 2 (line 2): ignoring Deployment b (not read by ingressguard)"},
	}, {
		name:  "a kind ending in List without items is an object",
		input: "apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: a}\n",
		notes: []string{"in.yaml: document 1 (line 1): ignoring AllowList a (not read by ingressguard)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, notes, err := Read("in.yaml", strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var got []string
			for _, d := range docs {
				if d.Source != "in.yaml" {
					t.Errorf("Source = %q, want in.yaml", d.Source)
				}
				got = append(got, brief(d))
			}
			if strings.Join(got, "\n") != strings.Join(tt.docs, "\n") {
				t.Errorf("documents:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.docs, "\n"))
			}
			if strings.Join(notes, "\n") != strings.Join(tt.notes, "\n") {
				t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(tt.notes, "\n"))
			}
		})
	}
}

func TestReadDecodesFields(t *testing.T) {
	docs, _, err := Read("in.yaml", strings.NewReader(ingressYAML+"---\n"+certificateYAML))
	if err != nil {
		t.Fatal(err)
	}
	ing := docs[0].Object.(*networkingv1.Ingress)
	if p := ing.Spec.Rules[0].HTTP.Paths[0]; p.Path != "/" || *p.PathType != networkingv1.PathTypePrefix || p.Backend.Service.Port.Number != 80 {
		t.Errorf("Ingress path decoded as %+v", p)
	}
	if gvk := ing.GroupVersionKind(); gvk != networkingv1.SchemeGroupVersion.WithKind("Ingress") {
		t.Errorf("Ingress kind = %v", gvk)
	}
	if c := docs[1].Object.(*cmv1.Certificate); c.Spec.SecretName != "web-tls" {
		t.Errorf("Certificate secretName = %q", c.Spec.SecretName)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{{
		name:  "invalid YAML, with the line in the file",
		input: classYAML + "---\n" + classYAML + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n   namespace: b\n",
		want:  "in.yaml: document 3 (line 15): invalid YAML: line 19: mapping values are not allowed in this context",
	}, {
		name:  "duplicate key",
		input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n",
		want:  `in.yaml: document 1 (line 1): invalid YAML: unmarshal errors: line 5: key "name" already set in map`,
	}, {
		name:  "unknown apiVersion",
		input: strings.Replace(ingressYAML, "networking.k8s.io/v1", "networking.k8s.io/v9", 1),
		want:  `in.yaml: document 1 (line 1): unknown apiVersion "networking.k8s.io/v9" for kind Ingress: ingressguard reads Ingress as networking.k8s.io/v1`,
	}, {
		name:  "Ingress of the extensions group, removed in Kubernetes 1.22",
		input: strings.Replace(ingressYAML, "networking.k8s.io/v1", "extensions/v1beta1", 1),
		want:  `in.yaml: document 1 (line 1): unknown apiVersion "extensions/v1beta1" for kind Ingress: ingressguard reads Ingress as networking.k8s.io/v1`,
	}, {
		name:  "cert-manager Certificate of an old version",
		input: strings.Replace(certificateYAML, "cert-manager.io/v1", "cert-manager.io/v1alpha2", 1),
		want:  `unknown apiVersion "cert-manager.io/v1alpha2" for kind Certificate: ingressguard reads Certificate as cert-manager.io/v1`,
	}, {
		name:  "Ingress without name",
		input: classYAML + "---\n" + strings.Replace(ingressYAML, "  name: web\n", "  labels: {app: web}\n", 1),
		want:  "in.yaml: document 2 (line 8): Ingress has no metadata.name",
	}, {
		name:  "Ingress without metadata",
		input: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nspec: {}\n",
		want:  "in.yaml: document 1 (line 1): Ingress has no metadata.name",
	}, {
		name:  "no kind",
		input: "apiVersion: v1\nmetadata: {name: a}\n",
		want:  "in.yaml: document 1 (line 1): object has no kind",
	}, {
		name:  "no apiVersion",
		input: "kind: Service\nmetadata: {name: a}\n",
		want:  "in.yaml: document 1 (line 1): Service has no apiVersion",
	}, {
		name:  "neither",
		input: "foo: bar\n",
		want:  "in.yaml: document 1 (line 1): not a Kubernetes object: apiVersion and kind are missing",
	}, {
		name:  "plain text",
		input: "hello world\n",
		want:  "in.yaml: document 1 (line 1): not a Kubernetes object: expected a mapping with apiVersion, kind and metadata",
	}, {
		name:  "a sequence",
		input: "- a\n- b\n",
		want:  "not a Kubernetes object",
	}, {
		name:  "kind is not a string",
		input: "apiVersion: v1\nkind: [Service]\n",
		want:  "in.yaml: document 1 (line 1): kind must be a string",
	}, {
		name:  "name is not a string",
		input: "apiVersion: v1\nkind: Service\nmetadata: {name: 7}\n",
		want:  "in.yaml: document 1 (line 1): metadata.name must be a string",
	}, {
		name:  "metadata is not a mapping",
		input: "apiVersion: v1\nkind: Service\nmetadata: web\n",
		want:  "in.yaml: document 1 (line 1): metadata must be a mapping",
	}, {
		name:  "invalid apiVersion",
		input: "apiVersion: a/b/c\nkind: Service\nmetadata: {name: a}\n",
		want:  `in.yaml: document 1 (line 1): Service: invalid apiVersion "a/b/c"`,
	}, {
		name:  "unknown field, as kubectl apply refuses it",
		input: strings.Replace(ingressYAML, "pathType: Prefix", "pathtype: Prefix", 1),
		want:  `in.yaml: document 1 (line 1): Ingress web: unknown field "spec.rules[0].http.paths[0].pathtype"`,
	}, {
		name:  "wrong type of a field",
		input: strings.Replace(ingressYAML, "number: 80", "number: eighty", 1),
		want:  "in.yaml: document 1 (line 1): Ingress web: ",
	}, {
		name:  "document separator followed by content",
		input: classYAML + "--- kind: Service\n",
		want:  `in.yaml: document 1 (line 1): invalid Yaml document separator: kind: Service: "---" must be alone on its line`,
	}, {
		name:  "document separator followed by content after an empty document",
		input: classYAML + "---\n# nothing\n--- kind: Service\n",
		want:  `in.yaml: document 2 (line 7): invalid Yaml document separator: kind: Service: "---" must be alone on its line`,
	}, {
		name:  "invalid JSON",
		input: "{\"apiVersion\": \"v1\",\n \"kind\": \"Service\"\n \"metadata\": {}}",
		want:  "in.yaml: document 1 (line 1): invalid JSON: line 3: invalid character '\"' after object key:value pair",
	}, {
		name:  "truncated JSON",
		input: `{"apiVersion": "v1"`,
		want:  "in.yaml: document 1 (line 1): invalid JSON: unexpected end of input",
	}, {
		name:  "garbage after JSON",
		input: "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"a\"}}\nxyz",
		want:  "in.yaml: document 2 (line 2): invalid JSON: line 2: invalid character 'x' looking for beginning of value",
	}, {
		name:  "List items that are not a sequence",
		input: "apiVersion: v1\nkind: List\nitems: 7\n",
		want:  "in.yaml: document 1 (line 1): List: items must be a sequence of objects",
	}, {
		name:  "List item without name",
		input: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n",
		want:  "in.yaml: document 1 (line 1): items[1]: Service has no metadata.name",
	}, {
		name:  "List item that is not an object",
		input: "apiVersion: v1\nkind: List\nitems: [7]\n",
		want:  "in.yaml: document 1 (line 1): items[0]: not a Kubernetes object",
	}, {
		name:  "binary garbage of 64 KiB without a newline",
		input: string(bytes.Repeat([]byte{0x80, 0xff, 0xc3, 0x28}, 16<<10)),
		want:  "in.yaml: document 1 (line 1): invalid YAML: ",
	}, {
		name:  "two million document separators",
		input: strings.Repeat("---\n", 2_000_000),
		want:  "in.yaml: more than 100000 documents; ingressguard reads at most 100000 documents from one input: split it into several files",
	}, {
		name:  "a stream of more JSON objects than MaxDocuments",
		input: strings.Repeat("{}", MaxDocuments+1),
		want:  "in.yaml: more than 100000 documents",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, notes, err := Read("in.yaml", strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("no error; documents %v, notes %q", docs, notes)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
		})
	}
}

// TestLastLineOfBufferSize: a last line without "\n" is read whatever its
// length, also when it fills the line reader's 4096-byte buffer exactly.
func TestLastLineOfBufferSize(t *testing.T) {
	for _, n := range []int{4095, 4096, 4097, 8192} {
		head := "apiVersion: v1\nkind: Service\nmetadata:\n"
		last := "  name: web #"
		last += strings.Repeat("x", n-len(last))
		docs, _, err := Read("in.yaml", strings.NewReader(head+last))
		if err != nil || len(docs) != 1 || docs[0].Object.(metav1.Object).GetName() != "web" {
			t.Errorf("last line of %d bytes: documents %v, error %v; want Service web", n, docs, err)
		}
	}
}

// TestMaxDocuments: MaxDocuments documents are read, one more is refused.
func TestMaxDocuments(t *testing.T) {
	doc := "# nothing\n---\n"
	if _, _, err := Read("in.yaml", strings.NewReader(strings.Repeat(doc, MaxDocuments))); err != nil {
		t.Errorf("%d empty documents: %v", MaxDocuments, err)
	}
	if _, _, err := Read("in.yaml", strings.NewReader(strings.Repeat(doc, MaxDocuments+1))); err == nil || !strings.Contains(err.Error(), "more than 100000 documents") {
		t.Errorf("%d empty documents: %v, want more than 100000 documents", MaxDocuments+1, err)
	}
}

// FuzzRead checks that Read never panics, and that what it accepts is
// always a kept kind with a name, with a namespace where it needs one.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		ingressYAML, classYAML, serviceYAML, secretYAML, certificateYAML, deploymentYAML,
		ingressYAML + "---\n" + classYAML,
		"---\n---\n# c\n",
		`{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}]}`,
		`{"apiVersion": "networking.k8s.io/v1", "kind": "IngressList", "items": [{"metadata": {"name": "a"}}]}`,
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n   namespace: b\n",
		"a: &a [*a]\n",
		"- a\n- b\n",
		"{\"apiVersion\": 1}",
		"hello",
		"\ufeff{}",
		"--- x\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _, err := Read("fuzz", strings.NewReader(string(data)))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
			return
		}
		for _, d := range docs {
			m, ok := d.Object.(metav1.Object)
			if !ok {
				t.Fatalf("%T is not an object", d.Object)
			}
			if m.GetName() == "" {
				t.Errorf("%T without name accepted", d.Object)
			}
			if _, cluster := d.Object.(*networkingv1.IngressClass); !cluster && m.GetNamespace() == "" {
				t.Errorf("%T %s without namespace", d.Object, m.GetName())
			}
			switch d.Object.(type) {
			case *networkingv1.Ingress, *networkingv1.IngressClass, *corev1.Service, *corev1.Secret, *cmv1.Certificate:
			default:
				t.Errorf("unexpected %T", d.Object)
			}
		}
	})
}
