package manifest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/convert"
)

// istioObjects converts the test Ingress with a TLS entry, for objects
// whose specs are protobuf messages.
func istioObjects(t *testing.T) []runtime.Object {
	t.Helper()
	input := strings.Replace(ingressYAML, "spec:\n", "spec:\n  tls:\n  - hosts: [example.com]\n    secretName: web-tls\n", 1) + "---\n" + classYAML + "---\n" + secretYAML
	input = strings.Replace(input, "metadata:\n  name: web\n", "metadata:\n  name: web\n  annotations:\n    kubernetes.io/ingress.class: istio\n", 1)
	docs, _, err := Read("in.yaml", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	res := convert.DefaultSettings().Convert(convert.NewSnapshot(Objects(docs), "istio-system"))
	if len(res.Gateways) != 1 || len(res.VirtualServices) != 1 {
		t.Fatalf("got %d Gateways and %d VirtualServices, want 1 each", len(res.Gateways), len(res.VirtualServices))
	}
	return []runtime.Object{res.Gateways[0], res.VirtualServices[0]}
}

func TestWrite(t *testing.T) {
	objs := istioObjects(t)
	service := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"b": "2", "a": "1"}},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}}},
	}
	tests := []struct {
		name   string
		objs   []runtime.Object
		format string
		want   []string // substrings, in this order
		absent []string
	}{{
		name:   "yaml documents separated by ---",
		objs:   objs,
		format: "yaml",
		want: []string{
			"apiVersion: networking.istio.io/v1\nkind: Gateway\n",
			"    tls:\n      credentialName: web-tls\n      mode: SIMPLE\n",
			"\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n",
			"        prefix: /\n",
			"          number: 80\n",
		},
		absent: []string{"status", "creationTimestamp"},
	}, {
		name:   "json List",
		objs:   objs,
		format: "json",
		want:   []string{"{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n", `"kind": "Gateway"`, `"credentialName": "web-tls"`, `"kind": "VirtualService"`, "\"kind\": \"List\"\n}\n"},
		absent: []string{"status", "creationTimestamp"},
	}, {
		name:   "status and null creationTimestamp of any object are left out, keys sorted",
		objs:   []runtime.Object{service},
		format: "yaml",
		want:   []string{"apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    a: \"1\"\n    b: \"2\"\n  name: web\n  namespace: shop\nspec: {}\n"},
		absent: []string{"status", "creationTimestamp", "10.0.0.1"},
	}, {
		name:   "no objects in yaml",
		format: "yaml",
	}, {
		name:   "no objects in json",
		format: "json",
		want:   []string{"{\n  \"apiVersion\": \"v1\",\n  \"items\": [],\n  \"kind\": \"List\"\n}\n"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := Write(&a, tt.objs, tt.format); err != nil {
				t.Fatal(err)
			}
			if err := Write(&b, tt.objs, tt.format); err != nil {
				t.Fatal(err)
			}
			out := a.String()
			if out != b.String() {
				t.Errorf("two writes differ:\n%s\n----\n%s", out, b.String())
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.absent {
				if strings.Contains(out, w) {
					t.Errorf("output contains %q:\n%s", w, out)
				}
			}
			if tt.want == nil && out != "" {
				t.Errorf("output = %q, want nothing", out)
			}
		})
	}
}

// TestWriteRoundTrip reads the output back as Istio objects.
func TestWriteRoundTrip(t *testing.T) {
	objs := istioObjects(t)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, objs, format); err != nil {
				t.Fatal(err)
			}
			var raw [][]byte
			if format == "json" {
				var list struct{ Items []json.RawMessage }
				if err := json.Unmarshal(buf.Bytes(), &list); err != nil {
					t.Fatal(err)
				}
				for _, it := range list.Items {
					raw = append(raw, it)
				}
			} else {
				for _, doc := range strings.Split(buf.String(), "\n---\n") {
					raw = append(raw, []byte(doc))
				}
			}
			if len(raw) != 2 {
				t.Fatalf("got %d objects, want 2", len(raw))
			}
			var gw istionet.Gateway
			var vs istionet.VirtualService
			if err := yaml.UnmarshalStrict(raw[0], &gw); err != nil {
				t.Fatalf("Gateway: %v", err)
			}
			if err := yaml.UnmarshalStrict(raw[1], &vs); err != nil {
				t.Fatalf("VirtualService: %v", err)
			}
			want := objs[0].(*istionet.Gateway)
			if gw.Name != want.Name || gw.Spec.Servers[0].Tls.CredentialName != "web-tls" || gw.Spec.Selector["istio"] != "ingressgateway" {
				t.Errorf("Gateway read back as %v", &gw)
			}
			if d := vs.Spec.Http[0].Route[0].Destination; d.Host != "web.default.svc.cluster.local" || d.Port.Number != 80 {
				t.Errorf("VirtualService destination read back as %v", d)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name   string
		objs   []runtime.Object
		format string
		want   string
	}{
		{name: "unknown format", format: "xml", want: `unknown output format "xml": use yaml or json`},
		{name: "object without type", objs: []runtime.Object{&corev1.Service{}}, format: "yaml", want: "cannot write a *v1.Service without apiVersion and kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.objs, tt.format)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q despite the error", buf.String())
			}
		})
	}
}
