package convert

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits on what one host's generated objects may hold, so that no Ingress
// can make them larger than the API server stores (etcd keeps objects of
// at most about 1.5 MiB): a write refused for size would leave every
// Ingress on the host with stale routes.
const (
	// MaxRoutesPerHost bounds the paths of all Ingresses on one host
	// (for a wildcard host, with the rules without host it carries).
	MaxRoutesPerHost = 4000
	// MaxVirtualServiceBytes bounds the JSON of a host's VirtualService,
	// with room to spare under etcd's limit for metadata.
	MaxVirtualServiceBytes = 1 << 20
	// routeBytes bounds the JSON of a route besides its path, which a
	// Prefix path puts in twice: the name, the destination and the syntax.
	routeBytes = 400
)

// checkLimits refuses ing (analysed as a) when a host it has routes on
// would go over MaxRoutesPerHost or MaxVirtualServiceBytes, counting the
// routes other Ingresses of ours already have there. The error's value is
// the number of ing's own routes on the host: an update of an Ingress
// already over a limit may keep or lower it (see the validating webhook),
// never raise it.
func (s Settings) checkLimits(a *Analysis, c View) {
	for _, key := range VirtualServiceHosts(a.Ingress) {
		own, others, size := 0, 0, 0
		count := func(ing *networkingv1.Ingress, self bool) {
			n, bytes := pathsFor(ing, key)
			size += bytes
			if self {
				own += n
			} else {
				others += n
			}
		}
		count(a.Ingress, true)
		buckets := []string{key}
		if strings.HasPrefix(key, "*") {
			buckets = append(buckets, "")
		}
		for _, b := range buckets {
			for _, other := range c.HostIngresses(b) {
				if !sameIngress(other, a.Ingress) && s.Ours(other, c) {
					count(other, false)
				}
			}
		}
		f := hostField(a.Ingress, key)
		if total := own + others; total > MaxRoutesPerHost {
			a.Diagnostics.Errors = append(a.Diagnostics.Errors, field.Invalid(f, own, fmt.Sprintf(
				"host %q would get %d routes (%d from this Ingress, %d from other Ingresses), over the limit of %d that keeps its generated VirtualService within what the API server stores; spread the paths over more hosts, or use Prefix paths that cover several",
				istioHost(key), total, own, others, MaxRoutesPerHost)))
			continue
		} else if size <= MaxVirtualServiceBytes/2 {
			continue // far from the limit: not worth building the object
		}
		v := NewVirtualHost(key, &viewSources{s: s, c: c, self: a})
		// The spec's JSON, by protojson directly: encoding/json on the
		// object goes through Istio's jsonpb and re-encodes its output,
		// four times the cost (BenchmarkValidateManyPaths).
		if vs := s.VirtualService(v); vs != nil {
			if b, err := protojson.Marshal(&vs.Spec); err == nil && len(b) > MaxVirtualServiceBytes {
				a.Diagnostics.Errors = append(a.Diagnostics.Errors, field.Invalid(f, own, fmt.Sprintf(
					"the VirtualService of host %q would take %d bytes, over the limit of %d that keeps it within what the API server stores; spread the paths over more hosts, or shorten them",
					istioHost(key), len(b), MaxVirtualServiceBytes)))
			}
		}
	}
}

// pathsFor counts the paths of ing that go into key's VirtualService (its
// rules whose HostKey is key, and for a wildcard key its rules without
// host), and bounds the bytes of their routes.
func pathsFor(ing *networkingv1.Ingress, key string) (n, size int) {
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil && (HostKey(r.Host) == key || r.Host == "" && strings.HasPrefix(key, "*")) {
			n += len(r.HTTP.Paths)
			for _, p := range r.HTTP.Paths {
				size += routeBytes + 2*(len(p.Path)+len(r.Host)) + len(ing.Namespace) + len(ing.Name)
				if b := p.Backend.Service; b != nil {
					size += len(b.Name) + len(b.Port.Name)
				}
			}
		}
	}
	return n, size
}

// hostField is the field of ing's first rule whose HostKey is key, or its
// defaultBackend.
func hostField(ing *networkingv1.Ingress, key string) *field.Path {
	for i, r := range ing.Spec.Rules {
		if HostKey(r.Host) == key {
			return field.NewPath("spec", "rules").Index(i).Child("host")
		}
	}
	return field.NewPath("spec", "defaultBackend")
}

func sameIngress(a, b *networkingv1.Ingress) bool {
	return a.Namespace == b.Namespace && a.Name == b.Name
}

// viewSources are the Sources of a VirtualHost under admission: the
// Ingresses of ours in the view, with the one under admission (self) in
// place of its stored version.
type viewSources struct {
	s    Settings
	c    View
	self *Analysis
}

func (v *viewSources) Routing(key string) []*Analysis {
	var out []*Analysis
	for _, ing := range v.c.HostIngresses(key) {
		if !sameIngress(ing, v.self.Ingress) && v.s.Ours(ing, v.c) {
			out = append(out, v.s.RoutesOf(ing, v.c))
		}
	}
	if slices.Contains(VirtualServiceHosts(v.self.Ingress), key) {
		out = append(out, v.self)
	}
	return out
}

func (v *viewSources) TLS(host string) []*networkingv1.Ingress {
	var out []*networkingv1.Ingress
	for _, ing := range v.c.TLSIngresses(host) {
		if !sameIngress(ing, v.self.Ingress) && v.s.Ours(ing, v.c) {
			out = append(out, ing)
		}
	}
	if slices.Contains(TLSHosts(v.self.Ingress), host) {
		out = append(out, v.self.Ingress)
	}
	return out
}
