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
	// LabelHost names the host of a Gateway or VirtualService as a label
	// value ("wildcard" for "*", shortened with a hash when too long).
	LabelHost = "ingressguard.io/host"
	// AnnotationHost holds the host of a Gateway or VirtualService, exactly.
	AnnotationHost = "ingressguard.io/host"
	// AnnotationIngresses lists the Ingresses (namespace/name, comma
	// separated, sorted) that a host's Gateway and VirtualService are made
	// from: those with routes in it, and the one whose certificate it serves.
	AnnotationIngresses = "ingressguard.io/ingresses"
)

// hashLen is the length in hex digits of the hash in a generated name:
// 64 bits, so that distinct keys never share a name (SPEC section 5).
const hashLen = 16

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

// HasObjectNameForm reports whether name has the form of ObjectName's
// names: a base, a dash and a hash of hashLen hex digits. Names with
// older versions' shorter hashes do not.
func HasObjectNameForm(name string) bool {
	i := len(name) - hashLen
	if i < 2 || name[i-1] != '-' {
		return false
	}
	for _, c := range name[i:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// labelValue returns s when it is a valid label value, else a shortened,
// sanitized form with a hash.
func labelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	return objectName(s, s)
}

// ObjectName is the name of the Gateway and of the VirtualService generated
// for a host ("" is the "*" host): the host with dots as dashes, then a
// hash of the host.
func ObjectName(host string) string {
	return objectName(istioHost(host), "host:"+istioHost(host))
}

// istioHost is the VirtualService host for an Ingress rule host.
func istioHost(host string) string {
	if host == "" {
		return "*"
	}
	return host
}
