package controller

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIstiodConverts(t *testing.T) {
	cm := func(mesh string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "istio", Namespace: "istio-system"}, Data: map[string]string{"mesh": mesh}}
	}
	for _, tc := range []struct {
		name string
		cm   *corev1.ConfigMap
		want bool
		why  string
	}{
		{"no istiod", nil, false, ""},
		{"mode unset means STRICT", cm("defaultConfig:\n  discoveryAddress: istiod:15012\n"), true, "STRICT (Istio's default)"},
		{"OFF", cm("ingressControllerMode: \"OFF\"\n"), false, ""},
		{"bare OFF, which YAML 1.1 reads as false", cm("ingressControllerMode: OFF\n"), false, ""},
		{"DEFAULT", cm("ingressControllerMode: DEFAULT\n"), true, "ingressControllerMode DEFAULT"},
		{"STRICT", cm("ingressControllerMode: STRICT\n"), true, "set meshConfig.ingressControllerMode: OFF"},
		{"broken YAML", cm("ingressControllerMode: [\n"), true, "cannot be read"},
	} {
		got, why := IstiodConverts(tc.cm)
		if got != tc.want || !strings.Contains(why, tc.why) {
			t.Errorf("%s: IstiodConverts = %v, %q; want %v and a reason containing %q", tc.name, got, why, tc.want, tc.why)
		}
	}
}
