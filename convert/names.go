package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Labels and annotations on generated objects.
const (
	// LabelManagedBy marks every object ingressguard owns; nothing without it
	// is ever modified.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "ingressguard"
	// LabelIngressNamespace names the namespace of a Gateway's Ingress.
	LabelIngressNamespace = "ingressguard.io/ingress-namespace"
	// LabelIngressName names a Gateway's Ingress (shortened with a hash
	// when the name is not a valid label value).
	LabelIngressName = "ingressguard.io/ingress-name"
	// LabelHost names a VirtualService's host as a label value
	// ("wildcard" for "*", shortened with a hash when too long).
	LabelHost = "ingressguard.io/host"
	// AnnotationIngress holds a Gateway's Ingress as namespace/name, exactly.
	AnnotationIngress = "ingressguard.io/ingress"
	// AnnotationHost holds a VirtualService's host, exactly.
	AnnotationHost = "ingressguard.io/host"
	// AnnotationIngresses lists the Ingresses (namespace/name, comma
	// separated, sorted) that contribute routes to a VirtualService.
	AnnotationIngresses = "ingressguard.io/ingresses"
)

const hashLen = 10

func shortHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// sanitize maps s onto [a-z0-9-], "*" becoming "wildcard", with no leading,
// trailing or repeated dashes.
func sanitize(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "*", "wildcard"))
	var b strings.Builder
	dash := true
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// objectName is a DNS-1123 label made of base and a hash of key, so that
// different keys never share a name even when their bases look alike
// (a.b.com and a-b.com).
func objectName(base, key string) string {
	base = sanitize(base)
	if max := validation.DNS1123LabelMaxLength - hashLen - 1; len(base) > max {
		base = strings.TrimRight(base[:max], "-")
	}
	if base == "" {
		return "ingress-" + shortHash(key)
	}
	return base + "-" + shortHash(key)
}

// labelValue returns s when it is a valid label value, else a shortened,
// sanitized form with a hash.
func labelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	return objectName(s, s)
}

// GatewayName is the name of the Gateway generated for an Ingress:
// "<ingress>-<namespace>-<hash>".
func GatewayName(namespace, name string) string {
	return objectName(name+"-"+namespace, namespace+"/"+name)
}

// VirtualServiceName is the name of the VirtualService generated for a host
// ("" is the "*" host): the host with dots as dashes, then a hash.
func VirtualServiceName(host string) string {
	return objectName(istioHost(host), "host:"+istioHost(host))
}

// istioHost is the VirtualService host for an Ingress rule host.
func istioHost(host string) string {
	if host == "" {
		return "*"
	}
	return host
}
