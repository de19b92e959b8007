package convert

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	istioapi "istio.io/api/networking/v1alpha3"
	securityapi "istio.io/api/security/v1beta1"
	typeapi "istio.io/api/type/v1beta1"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	istiosec "istio.io/client-go/pkg/apis/security/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	destinationRuleType     = metav1.TypeMeta{APIVersion: istionet.SchemeGroupVersion.String(), Kind: "DestinationRule"}
	authorizationPolicyType = metav1.TypeMeta{APIVersion: istiosec.SchemeGroupVersion.String(), Kind: "AuthorizationPolicy"}
)

// DestinationRuleName is the name of the DestinationRule generated for the
// Service of that host (name.namespace.svc.<domain suffix>): the host with
// dots as dashes, then a hash of the host.
func DestinationRuleName(host string) string {
	return objectName(host, "destination:"+host)
}

// ServiceHost is the host by which the gateway reaches Service
// namespace/name: its cluster DNS name.
func (s Settings) ServiceHost(namespace, name string) string {
	return name + "." + namespace + ".svc." + s.DomainSuffix
}

// destinationUse is one Ingress's policy for one destination.
type destinationUse struct {
	dest   destination
	policy destinationPolicy
	from   *Analysis
}

// destinationUses are the uses that analyses make of the destinations
// their annotations shape, by Service host, oldest Ingress first.
func destinationUses(as []*Analysis) map[string][]destinationUse {
	out := map[string][]destinationUse{}
	for _, a := range as {
		if a.objects == nil || a.objects.policy == (destinationPolicy{}) {
			continue
		}
		var seen []destination
		add := func(d destination) {
			if !slices.Contains(seen, d) {
				seen = append(seen, d)
				out[d.Host] = append(out[d.Host], destinationUse{dest: d, policy: a.objects.policy, from: a})
			}
		}
		for _, r := range a.routes {
			add(r.Dest)
		}
		if a.fallback != nil {
			add(*a.fallback)
		}
	}
	for _, uses := range out {
		slices.SortStableFunc(uses, func(x, y destinationUse) int { return byAge(x.from.Ingress, y.from.Ingress) })
	}
	return out
}

// DestinationRules renders, for every Service whose connections the
// annotations of analyses shape (backend-protocol, affinity, load-balance,
// proxy-connect-timeout), one DestinationRule in the gateway namespace,
// exported to that namespace only ("."): Istio then applies it to the
// gateway's proxies, which run there, and never to mesh traffic to the
// Service. Each Service port gets the policy of the oldest Ingress that
// routes to it; the others that ask otherwise get a warning, returned by
// Ingress. The rules are sorted by name.
func (s Settings) DestinationRules(as []*Analysis) ([]*istionet.DestinationRule, map[*Analysis][]Warning) {
	warnings := map[*Analysis][]Warning{}
	var out []*istionet.DestinationRule
	for host, uses := range destinationUses(as) {
		dr := &istionet.DestinationRule{TypeMeta: destinationRuleType}
		dr.Spec.Host = host
		dr.Spec.ExportTo = []string{"."}
		won := map[uint32]destinationUse{}
		var sources []string
		for _, u := range uses {
			if src := u.from.Ingress.Namespace + "/" + u.from.Ingress.Name; !slices.Contains(sources, src) {
				sources = append(sources, src)
			}
			w, ok := won[u.dest.Port]
			if !ok {
				won[u.dest.Port] = u
				continue
			}
			if w.policy != u.policy {
				warnings[u.from] = append(warnings[u.from], Warning{Field: u.from.objects.policyField(), Message: fmt.Sprintf(
					"Service port %s already gets other connection settings (TLS, load balancing, affinity, connect timeout) from the older Ingress %s, which wins: Istio keeps one DestinationRule per Service; give both Ingresses the same annotations, or route to another port",
					u.dest, w.from.Key())})
			}
		}
		ports := make([]uint32, 0, len(won))
		for p := range won {
			ports = append(ports, p)
		}
		slices.Sort(ports)
		dr.Spec.TrafficPolicy = &istioapi.TrafficPolicy{}
		for _, p := range ports {
			dr.Spec.TrafficPolicy.PortLevelSettings = append(dr.Spec.TrafficPolicy.PortLevelSettings, won[p].policy.portPolicy(p))
		}
		sort.Strings(sources)
		dr.ObjectMeta = s.metaFor(DestinationRuleName(host), host, sources)
		out = append(out, dr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, warnings
}

// policyField is the annotation a destination conflict is reported on: the
// first of the Ingress's annotations that shape its DestinationRule.
func (n *nginxObjects) policyField() string {
	switch p := n.policy; {
	case p.tls:
		return annotationField(NginxPrefix + nginxBackendProtocol).String()
	case p.cookie != "":
		return annotationField(NginxPrefix + nginxAffinity).String()
	case p.lb != "":
		return annotationField(NginxPrefix + nginxLoadBalance).String()
	}
	return annotationField(NginxPrefix + nginxConnectTimeout).String()
}

// portPolicy renders p as the traffic policy of one port.
func (p destinationPolicy) portPolicy(port uint32) *istioapi.TrafficPolicy_PortTrafficPolicy {
	out := &istioapi.TrafficPolicy_PortTrafficPolicy{Port: &istioapi.PortSelector{Number: port}}
	if p.tls {
		// ingress-nginx does not verify a backend's certificate unless
		// proxy-ssl-verify says so; Istio would verify it against the
		// system's roots, which a backend's own certificate rarely
		// chains to.
		out.Tls = &istioapi.ClientTLSSettings{Mode: istioapi.ClientTLSSettings_SIMPLE, InsecureSkipVerify: wrapperspb.Bool(true)}
	}
	switch {
	case p.cookie != "":
		out.LoadBalancer = &istioapi.LoadBalancerSettings{LbPolicy: &istioapi.LoadBalancerSettings_ConsistentHash{
			ConsistentHash: &istioapi.LoadBalancerSettings_ConsistentHashLB{
				HashKey: &istioapi.LoadBalancerSettings_ConsistentHashLB_HttpCookie{
					HttpCookie: &istioapi.LoadBalancerSettings_ConsistentHashLB_HTTPCookie{
						Name: p.cookie, Path: p.cookiePath, Ttl: durationpb.New(p.cookieTTL),
					},
				},
			},
		}}
	case p.lb != "":
		out.LoadBalancer = &istioapi.LoadBalancerSettings{LbPolicy: &istioapi.LoadBalancerSettings_Simple{
			Simple: istioapi.LoadBalancerSettings_SimpleLB(istioapi.LoadBalancerSettings_SimpleLB_value[p.lb]),
		}}
	}
	if p.connectTimeout > 0 {
		out.ConnectionPool = &istioapi.ConnectionPoolSettings{Tcp: &istioapi.ConnectionPoolSettings_TCPSettings{ConnectTimeout: durationpb.New(p.connectTimeout)}}
	}
	return out
}

// metaFor is the metadata of a generated object of that name for host,
// made from the Ingresses sources ("namespace/name", sorted).
func (s Settings) metaFor(name, host string, sources []string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:        name,
		Namespace:   s.GatewayNamespace,
		Labels:      map[string]string{LabelManagedBy: ManagedBy, LabelHost: labelValue(host)},
		Annotations: map[string]string{AnnotationHost: host, AnnotationIngresses: strings.Join(sources, ",")},
	}
}

// AuthorizationPolicy renders the source ranges of the Ingresses on v's
// host as one DENY policy on the ingress gateway's workload, named as v's
// Gateway: per route of an Ingress with whitelist-source-range, rules
// (one for plain HTTP, one for HTTPS) that deny the requests that route serves from addresses outside the
// ranges; with denylist-source-range, from addresses inside them. A
// route serves the requests its match takes that no earlier route of the
// host (in the VirtualService's first-match order) took, so each rule
// names the route's paths and, as notPaths, those of the earlier routes
// that overlap them: the policy covers exactly the restricted routes, and
// a path of another Ingress on the host is never affected. It returns nil
// when no Ingress on the host has source ranges (they are refused on every
// host that is not exact, see checkRestricted).
func (s Settings) AuthorizationPolicy(v *VirtualHost) *istiosec.AuthorizationPolicy {
	if v.Host == "" || strings.HasPrefix(v.Host, "*") || len(v.parts) != 1 || !v.parts[0].own {
		return nil
	}
	t := v.parts[0].HostTable
	hosts := []string{v.Host, v.Host + ":*"}
	type ruleKey struct {
		from     *Analysis
		notPaths string
	}
	var keys []ruleKey
	paths := map[ruleKey][]string{}
	notPaths := map[ruleKey][]string{}
	for i, r := range t.routes {
		if !r.from.objects.restricted() {
			continue
		}
		var not []string
		covered := false
		for _, q := range t.routes[:i] {
			if q.Match == r.Match {
				covered = true // a duplicate: the earlier route takes all
				break
			}
			if overlaps(q.Match, r.Match) {
				for _, p := range policyPaths(q.Match) {
					if !slices.Contains(not, p) {
						not = append(not, p)
					}
				}
			}
		}
		if covered {
			continue
		}
		k := ruleKey{r.from, strings.Join(not, "\n")}
		if _, ok := paths[k]; !ok {
			keys = append(keys, k)
			notPaths[k] = not
		}
		paths[k] = append(paths[k], policyPaths(r.Match)...)
	}
	if len(keys) == 0 {
		return nil
	}
	ap := &istiosec.AuthorizationPolicy{TypeMeta: authorizationPolicyType, ObjectMeta: s.objectMeta(v)}
	ap.Spec.Selector = &typeapi.WorkloadSelector{MatchLabels: make(map[string]string, len(s.GatewaySelector))}
	for k, val := range s.GatewaySelector {
		ap.Spec.Selector.MatchLabels[k] = val
	}
	ap.Spec.Action = securityapi.AuthorizationPolicy_DENY
	// On the gateway's TCP filter chains (ssl-passthrough servers of other
	// hosts) Istio drops a DENY rule's HTTP-only fields (hosts, paths) and
	// would refuse those connections by source alone. So each rule also
	// names the TLS server name, which TCP chains see: none (plain HTTP),
	// or the host (HTTPS; the gateway serves a host's routes only on its
	// own server, chosen by SNI). A passthrough connection has another
	// name, and no rule matches it.
	sni := []*securityapi.Condition{
		{Key: "connection.sni", NotValues: []string{"*"}},
		{Key: "connection.sni", Values: []string{v.Host}},
	}
	for _, k := range keys {
		to := []*securityapi.Rule_To{{Operation: &securityapi.Operation{Hosts: hosts, Paths: paths[k], NotPaths: notPaths[k]}}}
		for _, when := range sni {
			if allow := k.from.objects.ranges.allow; len(allow) > 0 {
				ap.Spec.Rules = append(ap.Spec.Rules, &securityapi.Rule{From: []*securityapi.Rule_From{{Source: &securityapi.Source{NotRemoteIpBlocks: allow}}}, To: to, When: []*securityapi.Condition{when}})
			}
			if deny := k.from.objects.ranges.deny; len(deny) > 0 {
				ap.Spec.Rules = append(ap.Spec.Rules, &securityapi.Rule{From: []*securityapi.Rule_From{{Source: &securityapi.Source{RemoteIpBlocks: deny}}}, To: to, When: []*securityapi.Condition{when}})
			}
		}
	}
	return ap
}

// policyPaths are the AuthorizationPolicy paths that a match takes: the
// path itself for Exact; for Prefix "/a", "/a" and "/a/*" (element-wise,
// as the VirtualService's exact "/a" and prefix "/a/"); "/*" for "/".
func policyPaths(m Match) []string {
	switch {
	case m.Kind == Exact:
		return []string{m.Path}
	case m.Path == "/":
		return []string{"/*"}
	}
	return []string{m.Path, m.Path + "/*"}
}

// overlaps reports whether some request path matches both q, which sorts
// before r in a host's routes, and r.
func overlaps(q, r Match) bool {
	if r.Kind == Exact {
		return q.Kind == Exact && q.Path == r.Path || q.Kind == Prefix && under(r.Path, q.Path)
	}
	return under(q.Path, r.Path)
}

// under reports whether path p is prefix or one of its descendants,
// element-wise.
func under(p, prefix string) bool {
	return prefix == "/" || p == prefix || strings.HasPrefix(p, prefix+"/")
}

// passthrough is the destination that v's HTTPS connections go to whole,
// by SNI, when an Ingress with ssl-passthrough on v's exact host asks for
// it (the oldest such Ingress's path /); nil otherwise, and when an
// Ingress with source ranges has routes on the host, since a connection
// passed through cannot be matched by path.
func (s Settings) passthrough(v *VirtualHost) *destination {
	if v.Host == "" || strings.HasPrefix(v.Host, "*") || len(v.parts) != 1 || !v.parts[0].own {
		return nil
	}
	var out *destination
	for _, a := range v.parts[0].Ingresses { // oldest first
		if a.objects.restricted() {
			return nil
		}
		if out == nil && a.objects != nil && a.objects.passthrough {
			if r := a.passthroughRoute(v.Host); r != nil {
				out = &r.Dest
			}
		}
	}
	return out
}
