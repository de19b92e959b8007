package convert

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warning is a problem that does not stop an Ingress from being served.
type Warning struct {
	// Field is the path of the field concerned, such as spec.tls[0].hosts[1].
	Field string
	// Message says what is wrong, why, and what to write instead.
	Message string
}

// String renders the warning as kubectl shows admission warnings.
func (w Warning) String() string { return w.Field + ": " + w.Message }

// Diagnostics are the errors and warnings of one Ingress.
type Diagnostics struct {
	Errors   field.ErrorList
	Warnings []Warning
}

func (d *Diagnostics) warn(f *field.Path, format string, args ...any) {
	d.Warnings = append(d.Warnings, Warning{Field: f.String(), Message: fmt.Sprintf(format, args...)})
}

// destination is a resolved Service backend.
type destination struct {
	Host string
	Port uint32
}

func (d destination) String() string { return fmt.Sprintf("%s:%d", d.Host, d.Port) }

// route is one servable Ingress path.
type route struct {
	Host  string
	Match Match
	Dest  destination
	from  *Analysis
	rule  int // index of the path's rule in spec.rules
	path  int // index of the path in the rule's http.paths
	seq   int // order of appearance in its Ingress
}

// Field is the path's field, for messages. It and Name are made only when
// needed: most routes never appear in a message.
func (r route) Field() string { return pathField(r.rule, r.path).String() }

// Name is the HTTPRoute name.
func (r route) Name() string {
	ing := r.from.Ingress
	return ing.Namespace + "/" + ing.Name + "/rules/" + strconv.Itoa(r.rule) + "/paths/" + strconv.Itoa(r.path)
}

// pathField is the field of spec.rules[rule].http.paths[path].
func pathField(rule, path int) *field.Path {
	return field.NewPath("spec").Child("rules").Index(rule).Child("http", "paths").Index(path)
}

// Analysis is one of our Ingresses as conversion sees it: what it routes and
// what is wrong with it.
type Analysis struct {
	Ingress     *networkingv1.Ingress
	Diagnostics Diagnostics
	// Hosts are the rule hosts in order of appearance ("" for none).
	Hosts    []string
	routes   []route
	fallback *destination // from spec.defaultBackend
	refused  []string     // hosts another namespace owns (tenancy.go)
	nginx    *nginxRoutes // ingress-nginx annotations that shape its routes; nil for none
	// objects is what its ingress-nginx annotations ask of objects other
	// than the VirtualService (nginx_objects.go); nil for none.
	objects *nginxObjects
}

// Key is the Ingress's namespace/name.
func (a *Analysis) Key() types.NamespacedName {
	return types.NamespacedName{Namespace: a.Ingress.Namespace, Name: a.Ingress.Name}
}

// VirtualServiceHosts are the hosts ("" is "*") whose VirtualService an
// Ingress has routes in: the key (HostKey) of each rule host, and "" for a
// defaultBackend.
func VirtualServiceHosts(ing *networkingv1.Ingress) []string {
	var hosts []string
	for _, h := range RuleHosts(ing) {
		if k := HostKey(h); !slices.Contains(hosts, k) {
			hosts = append(hosts, k)
		}
	}
	if ing.Spec.DefaultBackend == nil || slices.Contains(hosts, "") {
		return hosts
	}
	return append(hosts, "")
}

// HostKey is the host whose Gateway and VirtualService serve rule host h:
// h itself, or "" (the "*" host) for a rule without host and for a
// single-label host such as "myapp". Istio refuses single-label names as
// Gateway hosts, so the "*" host serves them, matching their authority
// exactly.
func HostKey(h string) string {
	if singleLabel(h) {
		return ""
	}
	return h
}

// singleLabel reports whether host is one DNS label, such as "myapp".
func singleLabel(host string) bool { return host != "" && !strings.Contains(host, ".") }

// TLSHosts are the hosts of an Ingress's tls entries that name a Secret,
// in order of appearance, "" standing for an entry without hosts (which
// covers every host); single-label hosts, which no Gateway can select a
// certificate for, are left out (Analyze refuses them).
func TLSHosts(ing *networkingv1.Ingress) []string {
	var hosts []string
	add := func(h string) {
		if !singleLabel(h) && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	for _, t := range ing.Spec.TLS {
		if t.SecretName == "" {
			continue
		}
		if len(t.Hosts) == 0 {
			add("")
		}
		for _, h := range t.Hosts {
			add(h)
		}
	}
	return hosts
}

// BackendServices lists the Services ("namespace/name") whose ports an
// Ingress's backends name, so that a Service change can find the routes it
// affects. A backend with a port number routes to the Service's name and
// that number whether the Service exists or not, so only named ports make
// routes depend on a Service.
func BackendServices(ing *networkingv1.Ingress) []string {
	return backendServices(ing, func(svc *networkingv1.IngressServiceBackend) bool { return svc.Port.Name != "" })
}

// backendServices lists the Services ("namespace/name") of an Ingress's
// backends that keep accepts, once each, in order of appearance.
func backendServices(ing *networkingv1.Ingress, keep func(*networkingv1.IngressServiceBackend) bool) []string {
	var out []string
	add := func(b *networkingv1.IngressBackend) {
		if b != nil && b.Service != nil && keep(b.Service) && !slices.Contains(out, ing.Namespace+"/"+b.Service.Name) {
			out = append(out, ing.Namespace+"/"+b.Service.Name)
		}
	}
	add(ing.Spec.DefaultBackend)
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil {
			for i := range r.HTTP.Paths {
				add(&r.HTTP.Paths[i].Backend)
			}
		}
	}
	return out
}

// Analyze is the second stage of conversion, for one Ingress that Ours
// accepted: the meaning of its paths (Interpret), its backends resolved to
// destinations, its TLS entries, and every problem of SPEC section 3 that
// needs no other Ingress.
func (s Settings) Analyze(ing *networkingv1.Ingress, c View) *Analysis {
	return s.analyze(ing, c, true)
}

// RoutesOf is Analyze without Diagnostics: only the routes and the
// fallback, for an Ingress whose problems nobody reads here (the other
// Ingresses on a host that Validate compares, the VirtualService of a
// host). It formats no message and checks no TLS entry; the routes are the
// same as Analyze's.
func (s Settings) RoutesOf(ing *networkingv1.Ingress, c View) *Analysis {
	return s.analyze(ing, c, false)
}

func (s Settings) analyze(ing *networkingv1.Ingress, c View, diagnose bool) *Analysis {
	paths := 0
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP != nil {
			paths += len(rule.HTTP.Paths)
		}
	}
	a := &Analysis{Ingress: ing, Hosts: RuleHosts(ing), routes: make([]route, 0, paths)}
	var d *Diagnostics // nil: no diagnostics
	if diagnose {
		d = &a.Diagnostics
		if _, ok := ing.Annotations[ClassAnnotation]; ok {
			d.warn(field.NewPath("metadata", "annotations").Key(ClassAnnotation),
				"deprecated since Kubernetes 1.18; set spec.ingressClassName to an IngressClass whose controller is %s instead", ControllerName)
		}
		if len(ing.Annotations) > 0 {
			s.checkAnnotations(ing, d)
		}
	}
	s.refuseHosts(a, c, d)
	if len(ing.Annotations) > 0 {
		a.nginx = parseNginxRoutes(ing, d)
	}
	for ri, rule := range ing.Spec.Rules {
		if rule.HTTP == nil || a.refused != nil && slices.Contains(a.refused, rule.Host) {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			m, problem := Interpret(p.Path, p.PathType)
			if problem != "" {
				if d != nil {
					d.Errors = append(d.Errors, field.Invalid(pathField(ri, pi).Child("path"), p.Path, problem))
				}
				continue
			}
			if p.PathType == nil && d != nil {
				if _, w := Defaulting(ri, pi, p.Path); w != nil {
					d.Warnings = append(d.Warnings, *w)
				}
			}
			dest, ok := s.resolve(p.Backend, func() *field.Path { return pathField(ri, pi).Child("backend") }, ing.Namespace, c, d)
			if !ok {
				continue
			}
			a.routes = append(a.routes, route{Host: rule.Host, Match: m, Dest: dest, from: a, rule: ri, path: pi, seq: len(a.routes)})
		}
	}
	if b := ing.Spec.DefaultBackend; b != nil {
		if dest, ok := s.resolve(*b, func() *field.Path { return field.NewPath("spec", "defaultBackend") }, ing.Namespace, c, d); ok {
			a.fallback = &dest
		}
	}
	if len(ing.Annotations) > 0 {
		s.parseNginxObjects(a, c, d)
		if s.refusesAnnotation(ing) {
			a.routes, a.fallback = a.routes[:0], nil
		}
	}
	if d != nil {
		s.checkTLS(a, c)
	}
	return a
}

// resolve turns a backend, at field f(), into a destination, recording in
// d (when not nil) why it cannot.
func (s Settings) resolve(b networkingv1.IngressBackend, f func() *field.Path, ns string, c Services, d *Diagnostics) (destination, bool) {
	if r := b.Resource; r != nil {
		if d != nil {
			group := ""
			if r.APIGroup != nil {
				group = *r.APIGroup
			}
			d.Errors = append(d.Errors, field.Invalid(f().Child("resource"), fmt.Sprintf("%s/%s/%s", group, r.Kind, r.Name),
				"Istio routes Ingress traffic only to Services and ignores resource backends; use backend.service with a Service name and port"))
		}
		return destination{}, false
	}
	svc := b.Service
	if svc == nil || svc.Name == "" {
		if d != nil {
			d.Errors = append(d.Errors, field.Required(f().Child("service"), "Istio needs a Service to route to; set backend.service.name and port"))
		}
		return destination{}, false
	}
	host := svc.Name + "." + ns + ".svc." + s.DomainSuffix
	if svc.Port.Name == "" {
		if svc.Port.Number <= 0 {
			if d != nil {
				d.Errors = append(d.Errors, field.Required(f().Child("service", "port"), "Istio needs a Service port; set port.number or port.name"))
			}
			return destination{}, false
		}
		return destination{Host: host, Port: uint32(svc.Port.Number)}, true
	}
	obj, ok := c.Service(ns, svc.Name)
	if !ok {
		if d != nil {
			d.warn(f().Child("service", "port", "name"), "Service %s/%s does not exist yet, so port name %q cannot be resolved and this path gets no route until it does; create the Service or use port.number",
				ns, svc.Name, svc.Port.Name)
		}
		return destination{}, false
	}
	for _, p := range obj.Spec.Ports {
		if p.Name == svc.Port.Name {
			return destination{Host: host, Port: uint32(p.Port)}, true
		}
	}
	if d != nil {
		var names []string
		for _, p := range obj.Spec.Ports {
			names = append(names, fmt.Sprintf("%s=%d", p.Name, p.Port))
		}
		d.Errors = append(d.Errors, field.Invalid(f().Child("service", "port", "name"), svc.Port.Name,
			fmt.Sprintf("Service %s/%s has no port of that name, so Istio would drop this path; use one of its ports (%s) or port.number",
				ns, svc.Name, strings.Join(names, ", "))))
	}
	return destination{}, false
}

// checkTLS applies SPEC section 3's TLS rules.
func (s Settings) checkTLS(a *Analysis, c Credentials) {
	d := &a.Diagnostics
	for i, t := range a.Ingress.Spec.TLS {
		f := func() *field.Path { return field.NewPath("spec", "tls").Index(i) }
		switch {
		case t.SecretName == "":
			d.Errors = append(d.Errors, field.Required(f().Child("secretName"), fmt.Sprintf(
				"Istio's gateway needs a certificate for HTTPS and drops a tls entry without secretName; name a kubernetes.io/tls Secret in namespace %q", s.GatewayNamespace)))
		case !c.SecretExists(t.SecretName) && !issued(c, t.SecretName):
			d.Errors = append(d.Errors, field.Invalid(f().Child("secretName"), t.SecretName, fmt.Sprintf(
				"no Secret of that name in namespace %q: Istio's ingress gateway reads TLS certificates only from its own namespace %q, never from the Ingress's namespace %q; create it there (kubectl -n %s create secret tls %s --cert=FILE --key=FILE) or issue it with a cert-manager Certificate in %s whose spec.secretName is %q",
				s.GatewayNamespace, s.GatewayNamespace, a.Ingress.Namespace, s.GatewayNamespace, t.SecretName, s.GatewayNamespace, t.SecretName)))
		default:
			s.checkCertificateUse(a, i, c)
		}
		for j, h := range t.Hosts {
			if singleLabel(h) {
				d.Errors = append(d.Errors, field.Invalid(f().Child("hosts").Index(j), h,
					"Istio's gateway picks a certificate by a Gateway server host, and it refuses single-label names there (they are not fully qualified), so this certificate would never be served; name the host by a fully qualified name such as "+h+".example.com in both the rule and the tls entry, or remove it from tls.hosts and serve it over plain HTTP"))
				continue
			}
			if !a.serves(h) && !slices.Contains(a.refused, h) {
				d.warn(f().Child("hosts").Index(j), "no rule of this Ingress serves host %q, so this entry serves it only if another Ingress has rules for it (else nothing answers HTTPS for it); add a rule for it or remove it", h)
			}
		}
	}
}

// serves reports whether some rule or the defaultBackend handles host.
func (a *Analysis) serves(host string) bool {
	if a.Ingress.Spec.DefaultBackend != nil {
		return true
	}
	for _, h := range a.Hosts {
		if h == "" || h == host || wildcardCovers(h, host) {
			return true
		}
	}
	return false
}

// wildcardCovers reports whether wildcard host w ("*.example.com") matches
// host, which must have exactly one more DNS label.
func wildcardCovers(w, host string) bool {
	suffix, ok := strings.CutPrefix(w, "*")
	if !ok {
		return false
	}
	label, ok := strings.CutSuffix(host, suffix)
	return ok && label != "" && !strings.Contains(label, ".")
}

// RuleHosts returns the distinct hosts of an Ingress's rules in order of
// appearance ("" for a rule without host).
func RuleHosts(ing *networkingv1.Ingress) []string {
	var hosts []string
	var seen map[string]bool // only for many rules; a few are compared directly
	for _, r := range ing.Spec.Rules {
		if len(ing.Spec.Rules) <= 8 {
			if !slices.Contains(hosts, r.Host) {
				hosts = append(hosts, r.Host)
			}
			continue
		}
		if seen == nil {
			seen = make(map[string]bool, len(ing.Spec.Rules))
		}
		if !seen[r.Host] {
			seen[r.Host] = true
			hosts = append(hosts, r.Host)
		}
	}
	return hosts
}
