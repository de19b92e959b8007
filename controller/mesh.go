package controller

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// MeshConfigMap is the ConfigMap, in the gateway namespace, that holds
// istiod's mesh config under the key "mesh".
const MeshConfigMap = "istio"

// IstiodConverts reads istiod's mesh config (nil: there is no such
// ConfigMap) and reports whether istiod converts Ingresses itself, with the
// reason (SPEC section 6). Without the ConfigMap there is no istiod in the
// gateway namespace; with it and no ingressControllerMode, Istio's default,
// STRICT, is on.
func IstiodConverts(cm *corev1.ConfigMap) (bool, string) {
	if cm == nil {
		return false, ""
	}
	var mesh struct {
		IngressControllerMode string `json:"ingressControllerMode"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["mesh"]), &mesh); err != nil {
		return true, fmt.Sprintf("the mesh config in ConfigMap %s/%s cannot be read (%v), so istiod may be converting Ingresses itself; fix it and set ingressControllerMode: OFF", cm.Namespace, cm.Name, err)
	}
	mode := strings.ToUpper(mesh.IngressControllerMode)
	switch mode {
	case "OFF", "FALSE": // YAML 1.1 reads a bare OFF as false
		return false, ""
	case "":
		mode = "STRICT (Istio's default)"
	}
	return true, fmt.Sprintf("istiod converts Ingresses itself (ingressControllerMode %s in ConfigMap %s/%s), so writing Gateways and VirtualServices would route every path twice; set meshConfig.ingressControllerMode: OFF, or run ingressguard with --reconcile=false",
		mode, cm.Namespace, cm.Name)
}
