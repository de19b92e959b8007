package convert

import (
	"fmt"
	"slices"
	"strings"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The gateway is shared by every namespace of the cluster: one namespace's
// Ingress must not take another's traffic or serve another's certificate.
// The annotations by which namespaces consent to sharing:
const (
	// AnnotationShareHostWith, on an Ingress of the namespace that owns a
	// host, lists the other namespaces ("team-b,team-c", or "*" for all)
	// whose Ingresses may also claim the hosts that Ingress claims.
	AnnotationShareHostWith = "ingressguard.io/share-host-with"
	// AnnotationAllowedNamespaces, on a TLS Secret in the gateway namespace
	// or on the cert-manager Certificate that issues it, lists the
	// namespaces ("team-a,team-b", or "*" for all) whose Ingresses may
	// serve it.
	AnnotationAllowedNamespaces = "ingressguard.io/allowed-namespaces"
)

// CertificateUse says whether a TLS Secret needs AnnotationAllowedNamespaces
// before Ingresses may serve it.
type CertificateUse string

const (
	// CertificateUsePermissive lets any namespace serve a Secret that
	// declares nothing (with a warning); a declaration is enforced.
	CertificateUsePermissive CertificateUse = "permissive"
	// CertificateUseStrict lets only the namespaces a Secret (or its
	// Certificate) declares serve it.
	CertificateUseStrict CertificateUse = "strict"
)

// CredentialUse is what the gateway namespace declares about one TLS
// Secret, read from its metadata and its cert-manager Certificate's, never
// from its data.
type CredentialUse struct {
	// Declared says whether the Secret, or else its Certificate, has
	// AnnotationAllowedNamespaces; Namespaces is its value.
	Declared   bool
	Namespaces string
	// Certificate is the cert-manager Certificate that issues the Secret,
	// "" for none; DNSNames are its spec.dnsNames.
	Certificate string
	DNSNames    []string
}

// UseOf adds to what a Secret declares (secret; the zero value for
// nothing) what the Certificate that issues it declares: its dnsNames, and
// its AnnotationAllowedNamespaces when the Secret has none.
func UseOf(secret CredentialUse, cert *cmv1.Certificate) CredentialUse {
	use := secret
	use.Certificate, use.DNSNames = cert.Name, cert.Spec.DNSNames
	if v, ok := cert.Annotations[AnnotationAllowedNamespaces]; ok && !use.Declared {
		use.Declared, use.Namespaces = true, v
	}
	return use
}

// listed reports whether a comma-separated list of namespaces names ns or
// is "*".
func listed(list, ns string) bool {
	for item := range strings.SplitSeq(list, ",") {
		if item = strings.TrimSpace(item); item == ns || item == "*" {
			return true
		}
	}
	return false
}

// claims reports whether ing claims host h: a rule for it or a tls entry
// naming it; for "" (the catch-all "*" host), a rule without host, a
// defaultBackend or a tls entry without hosts.
func claims(ing *networkingv1.Ingress, h string) bool {
	if h == "" && ing.Spec.DefaultBackend != nil {
		return true
	}
	for _, r := range ing.Spec.Rules {
		if r.Host == h {
			return true
		}
	}
	for _, t := range ing.Spec.TLS {
		if t.SecretName != "" && (h == "" && len(t.Hosts) == 0 || h != "" && slices.Contains(t.Hosts, h)) {
			return true
		}
	}
	return false
}

// claimedFirst orders two claims of a host: the older Ingress first, ties
// broken by namespace and name (byAge); an Ingress without
// creationTimestamp (not created yet: read from a file) after every one
// that has one.
func claimedFirst(a, b *networkingv1.Ingress) bool {
	if az, bz := a.CreationTimestamp.IsZero(), b.CreationTimestamp.IsZero(); az != bz {
		return bz
	}
	return byAge(a, b) < 0
}

// hostRefused reports whether ing, one of ours, may not serve host h: an
// Ingress of ours in another namespace claimed h first, and no Ingress of
// that namespace claiming h shares it with ing's namespace. Ownership is
// per host as written: a wildcard is a host of its own, "" (the catch-all)
// too. The common case, no claim of h from another namespace, costs one
// namespace comparison per Ingress on h.
func (s Settings) hostRefused(ing *networkingv1.Ingress, h string, c View) bool {
	lists := [2][]*networkingv1.Ingress{c.HostIngresses(HostKey(h)), c.TLSIngresses(h)}
	var first *networkingv1.Ingress // the first claim of another namespace
	for _, l := range lists {
		for _, o := range l {
			if o.Namespace != ing.Namespace && claimedFirst(o, ing) && (first == nil || claimedFirst(o, first)) && claims(o, h) && s.Ours(o, c) {
				first = o
			}
		}
	}
	if first == nil {
		return false
	}
	for _, l := range lists {
		for _, o := range l {
			switch {
			case o.Namespace == ing.Namespace && claimedFirst(o, first) && claims(o, h) && s.Ours(o, c):
				return false // ing's namespace claimed it earlier
			case o.Namespace == first.Namespace && listed(o.Annotations[AnnotationShareHostWith], ing.Namespace) && claims(o, h) && s.Ours(o, c):
				return false // the owner shares it
			}
		}
	}
	return true
}

// refuseHosts leaves out of a what ing's namespace may not serve, when
// host ownership is on: the rules and tls hosts of hosts that another
// namespace owns, and the defaultBackend from the catch-all "*" host when
// another namespace owns that (it still serves the Ingress's own hosts). It
// records those hosts in a.refused, strips them from a.Hosts and, when d
// is not nil, tells why. Each host is judged once.
func (s Settings) refuseHosts(a *Analysis, c View, d *Diagnostics) {
	ing := a.Ingress
	if !s.HostOwnership {
		return
	}
	judge := func(h string) {
		if s.hostRefused(ing, h, c) {
			a.refused = append(a.refused, h)
		}
	}
	for _, h := range a.Hosts {
		judge(h)
	}
	if ing.Spec.DefaultBackend != nil && !slices.Contains(a.Hosts, "") {
		judge("")
	}
	judged := func(h string) bool {
		return slices.Contains(a.Hosts, h) || h == "" && ing.Spec.DefaultBackend != nil || slices.Contains(a.refused, h)
	}
	for _, t := range ing.Spec.TLS { // TLSHosts, without a slice of them
		if t.SecretName != "" && len(t.Hosts) == 0 && !judged("") {
			judge("")
		}
		for _, h := range t.Hosts {
			if t.SecretName != "" && !singleLabel(h) && !judged(h) {
				judge(h)
			}
		}
	}
	if len(a.refused) == 0 {
		return
	}
	a.Hosts = slices.DeleteFunc(a.Hosts, func(h string) bool { return slices.Contains(a.refused, h) })
	if d == nil {
		return
	}
	for i, r := range ing.Spec.Rules {
		if !slices.Contains(a.refused, r.Host) {
			continue
		}
		what := fmt.Sprintf("host %q", r.Host)
		if r.Host == "" {
			what = `a rule without host catches every host that no other rule names, and that catch-all ("*")`
		} else if singleLabel(r.Host) {
			what = fmt.Sprintf(`host %q (served by the catch-all "*" host)`, r.Host)
		}
		d.Errors = append(d.Errors, field.Invalid(field.NewPath("spec", "rules").Index(i).Child("host"), r.Host, refusal(what, "this rule is not served", ing.Namespace)))
	}
	if ing.Spec.DefaultBackend != nil && slices.Contains(a.refused, "") {
		d.warn(field.NewPath("spec", "defaultBackend"), "%s", refusal(
			`a defaultBackend also catches every request for a host that no Ingress serves, and that catch-all ("*")`,
			"this defaultBackend is left out of it", ing.Namespace)+"; it still catches, on this Ingress's own hosts, the requests that no path matches")
	}
	for i, t := range ing.Spec.TLS {
		if t.SecretName == "" {
			continue
		}
		f := field.NewPath("spec", "tls").Index(i).Child("hosts")
		if len(t.Hosts) == 0 && slices.Contains(a.refused, "") {
			d.Errors = append(d.Errors, field.Forbidden(f, refusal(
				`a tls entry without hosts serves its certificate for every host that no other tls entry names, and that catch-all ("*")`,
				"this tls entry is not served", ing.Namespace)+"; or list your own hosts in hosts"))
		}
		for j, h := range t.Hosts {
			if !singleLabel(h) && slices.Contains(a.refused, h) {
				d.Errors = append(d.Errors, field.Invalid(f.Index(j), h, refusal(fmt.Sprintf("host %q", h), "this tls entry does not serve it", ing.Namespace)))
			}
		}
	}
}

// refusal says why what a namespace claims is not served, without naming
// any other tenant's objects, and how to get it shared; mine is what is
// refused ("this rule is not served").
func refusal(what, mine, ns string) string {
	return fmt.Sprintf("%s is already served by an Ingress in another namespace, which claimed it first; "+
		"the ingress gateway is shared by every namespace and a host belongs to the namespace that claimed it first, "+
		"so %s (it would take over that traffic); use a host of your own, "+
		"or ask the host's owners to share it: they add %q to the annotation %s on one of their Ingresses for it",
		what, mine, ns, AnnotationShareHostWith)
}

// catchAll reports whether a's defaultBackend is part of the catch-all
// "*" host: it has one, and the catch-all is not another namespace's.
func (a *Analysis) catchAll() bool {
	return a.Ingress.Spec.DefaultBackend != nil && !slices.Contains(a.refused, "")
}

// Contributes reports whether a has a part in the VirtualService of host
// key (as VirtualServiceHosts names them) once what its namespace may not
// serve is left out.
func (a *Analysis) Contributes(key string) bool {
	if key == "" && a.catchAll() {
		return true
	}
	return slices.ContainsFunc(a.Hosts, func(h string) bool { return HostKey(h) == key })
}

// ServesTLS reports whether the tls entries of ing, one of ours, may serve
// a certificate for host (as TLSHosts names them; "" for an entry without
// hosts): its namespace may claim the host, and may use the Secret of the
// first entry for it, the one the gateway would serve.
func (s Settings) ServesTLS(ing *networkingv1.Ingress, host string, c View) bool {
	if s.HostOwnership && s.hostRefused(ing, host, c) {
		return false
	}
	for _, t := range ing.Spec.TLS {
		if t.SecretName != "" && (host == "" && len(t.Hosts) == 0 || host != "" && slices.Contains(t.Hosts, host)) {
			return s.certificateRefused(ing.Namespace, c.CredentialUse(t.SecretName)) == ""
		}
	}
	return false
}

// certificateRefused says why namespace ns may not serve a Secret with
// that use, "" when it may.
func (s Settings) certificateRefused(ns string, use CredentialUse) string {
	switch {
	case use.Declared && !listed(use.Namespaces, ns):
		return fmt.Sprintf("the annotation %s on it or on its cert-manager Certificate lists the namespaces whose Ingresses may serve it, and %q is not among them", AnnotationAllowedNamespaces, ns)
	case !use.Declared && s.CertificateUse == CertificateUseStrict:
		return fmt.Sprintf("certificate use is strict (--certificate-use=strict), and neither it nor its cert-manager Certificate declares, in the annotation %s, which namespaces may serve it", AnnotationAllowedNamespaces)
	}
	return ""
}

// issued reports whether a cert-manager Certificate issues the Secret.
func issued(c Credentials, secretName string) bool {
	_, ok := c.CertificateFor(secretName)
	return ok
}

// checkCertificateUse applies the certificate-use rules to tls entry i of
// a, whose Secret exists or is being issued: an error when its namespace
// may not serve it, a warning when anyone may because nothing is
// declared, and a warning for each host the issuing Certificate's
// dnsNames do not cover.
func (s Settings) checkCertificateUse(a *Analysis, i int, c Credentials) {
	d, t, ns := &a.Diagnostics, a.Ingress.Spec.TLS[i], a.Ingress.Namespace
	f := func() *field.Path { return field.NewPath("spec", "tls").Index(i) } // only for a message
	use := c.CredentialUse(t.SecretName)
	if why := s.certificateRefused(ns, use); why != "" {
		d.Errors = append(d.Errors, field.Invalid(f().Child("secretName"), t.SecretName, fmt.Sprintf(
			"the Secret %s/%s is not for this namespace: %s; the ingress gateway serves whatever certificate an Ingress names, so its owners declare who may, and this tls entry is left out of the gateway; "+
				"ask the administrators of namespace %q to add %q to that annotation on the Secret or on its Certificate, or use a Secret issued for your hosts",
			s.GatewayNamespace, t.SecretName, why, s.GatewayNamespace, ns)))
		return
	}
	if !use.Declared {
		d.warn(f().Child("secretName"), "any namespace may serve the certificate of Secret %s/%s: neither it nor its cert-manager Certificate has the annotation %s; "+
			"ask the administrators of namespace %q to declare which namespaces may use it (for this one, %s: %q), as --certificate-use=strict requires",
			s.GatewayNamespace, t.SecretName, AnnotationAllowedNamespaces, s.GatewayNamespace, AnnotationAllowedNamespaces, ns)
	}
	if use.Certificate == "" || len(use.DNSNames) == 0 {
		return
	}
	for j, h := range t.Hosts {
		if !singleLabel(h) && !slices.ContainsFunc(use.DNSNames, func(n string) bool { return n == h || wildcardCovers(n, h) }) {
			d.warn(f().Child("hosts").Index(j), "the cert-manager Certificate %s/%s that issues Secret %q does not cover host %q (its dnsNames: %s), so clients will reject the certificate for it; add the host to the Certificate's dnsNames, or use a Secret whose certificate covers it",
				s.GatewayNamespace, use.Certificate, t.SecretName, h, strings.Join(use.DNSNames, ", "))
		}
	}
}
