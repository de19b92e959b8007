package compact

import (
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pathTypes holds one pointer to each valid path type, shared by every
// copy Ingress makes: most Ingress fields that are pointers are pathTypes.
var pathTypes = func() map[networkingv1.PathType]*networkingv1.PathType {
	m := map[networkingv1.PathType]*networkingv1.PathType{}
	for _, t := range []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific} {
		m[t] = &t
	}
	return m
}()

// ingressBlock is one allocation for an Ingress and the targets of its
// pointer fields that occur at most once per Ingress.
type ingressBlock struct {
	ing            networkingv1.Ingress
	deleted        metav1.Time
	class          string
	defaultBackend networkingv1.IngressBackend
	defaultService networkingv1.IngressServiceBackend
}

// Ingress returns a deep copy of in's kind, spec and status, with a copy
// of meta as its metadata, in about ten heap allocations however many
// rules, paths and hosts it has: one for the Ingress, one for all its
// strings, one per slice type. Paths of the same type share their
// pathType pointer with every other copy. Of meta, the strings, labels,
// annotations and deletion timestamp are copied; its owner references,
// finalizers and managed fields are kept as they are (the caches that use
// Ingress drop them).
func Ingress(in *networkingv1.Ingress, meta metav1.ObjectMeta) *networkingv1.Ingress {
	b := new(ingressBlock)
	out := &b.ing
	out.TypeMeta, out.ObjectMeta = in.TypeMeta, meta
	if meta.DeletionTimestamp != nil {
		b.deleted = *meta.DeletionTimestamp
		out.DeletionTimestamp = &b.deleted
	}
	var s Strings
	s.Meta(&out.TypeMeta, &out.ObjectMeta)
	s.Map(&out.Labels, meta.Labels)
	s.Map(&out.Annotations, meta.Annotations)
	if in.Spec.IngressClassName != nil {
		b.class = *in.Spec.IngressClassName
		out.Spec.IngressClassName = &b.class
		s.Add(&b.class)
	}
	if d := in.Spec.DefaultBackend; d != nil {
		out.Spec.DefaultBackend = &b.defaultBackend
		backend(&b.defaultBackend, d, &b.defaultService, &s)
	}
	rules(&out.Spec, in.Spec.Rules, &s)
	tls(&out.Spec, in.Spec.TLS, &s)
	status(&out.Status, in.Status.LoadBalancer.Ingress, &s)
	s.Pack()
	return out
}

// backend copies in to out, a service backend to svc.
func backend(out, in *networkingv1.IngressBackend, svc *networkingv1.IngressServiceBackend, s *Strings) {
	if in.Service != nil {
		*svc = *in.Service
		s.Add(&svc.Name, &svc.Port.Name)
		out.Service = svc
	}
	if in.Resource != nil {
		out.Resource = in.Resource.DeepCopy()
	}
}

// take returns the next len(from) elements of *all, for a copy of from
// (nil for a nil from, so that nil and empty slices stay apart), and drops
// them from *all.
func take[T any](all *[]T, from []T) []T {
	if from == nil {
		return nil
	}
	n := len(from)
	out := (*all)[:n:n]
	*all = (*all)[n:]
	return out
}

// rules copies the rules to spec, in one array of rules, one of HTTP rule
// values, one of paths and one of service backends.
func rules(spec *networkingv1.IngressSpec, in []networkingv1.IngressRule, s *Strings) {
	if in == nil {
		return
	}
	var nHTTP, nPaths, nServices int
	for _, r := range in {
		if r.HTTP == nil {
			continue
		}
		nHTTP++
		nPaths += len(r.HTTP.Paths)
		for _, p := range r.HTTP.Paths {
			if p.Backend.Service != nil {
				nServices++
			}
		}
	}
	out := make([]networkingv1.IngressRule, len(in))
	https := make([]networkingv1.HTTPIngressRuleValue, nHTTP)
	paths := make([]networkingv1.HTTPIngressPath, nPaths)
	services := make([]networkingv1.IngressServiceBackend, nServices)
	for i, r := range in {
		out[i].Host = r.Host
		s.Add(&out[i].Host)
		if r.HTTP == nil {
			continue
		}
		h := &https[0]
		https = https[1:]
		out[i].HTTP = h
		h.Paths = take(&paths, r.HTTP.Paths)
		for j, p := range r.HTTP.Paths {
			q := &h.Paths[j]
			q.Path = p.Path
			s.Add(&q.Path)
			q.PathType = p.PathType
			if p.PathType != nil {
				if shared, ok := pathTypes[*p.PathType]; ok {
					q.PathType = shared
				} else {
					t := *p.PathType
					q.PathType = &t
				}
			}
			var svc *networkingv1.IngressServiceBackend
			if p.Backend.Service != nil {
				svc = &services[0]
				services = services[1:]
			}
			backend(&q.Backend, &p.Backend, svc, s)
		}
	}
	spec.Rules = out
}

// tls copies the TLS entries to spec, their hosts in one array.
func tls(spec *networkingv1.IngressSpec, in []networkingv1.IngressTLS, s *Strings) {
	if in == nil {
		return
	}
	n := 0
	for _, t := range in {
		n += len(t.Hosts)
	}
	out := make([]networkingv1.IngressTLS, len(in))
	hosts := make([]string, n)
	for i, t := range in {
		out[i].SecretName = t.SecretName
		s.Add(&out[i].SecretName)
		out[i].Hosts = take(&hosts, t.Hosts)
		copy(out[i].Hosts, t.Hosts)
		for j := range out[i].Hosts {
			s.Add(&out[i].Hosts[j])
		}
	}
	spec.TLS = out
}

// status copies the load-balancer entries to st, their ports in one
// array.
func status(st *networkingv1.IngressStatus, in []networkingv1.IngressLoadBalancerIngress, s *Strings) {
	if in == nil {
		return
	}
	n := 0
	for _, e := range in {
		n += len(e.Ports)
	}
	out := make([]networkingv1.IngressLoadBalancerIngress, len(in))
	ports := make([]networkingv1.IngressPortStatus, n)
	for i, e := range in {
		o := &out[i]
		o.IP, o.Hostname = e.IP, e.Hostname
		s.Add(&o.IP, &o.Hostname)
		o.Ports = take(&ports, e.Ports)
		for j, p := range e.Ports {
			q := &o.Ports[j]
			q.Port, q.Protocol = p.Port, p.Protocol
			s.Add((*string)(&q.Protocol))
			if p.Error != nil {
				e := *p.Error
				q.Error = &e
			}
		}
	}
	st.LoadBalancer.Ingress = out
}
