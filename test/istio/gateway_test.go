package istio

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/mesh"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ingressguard/ingressguard/convert"
)

// This file runs Istio's own control plane on what convert generates and
// asks it what a request gets: istiod's config generation (a fake
// discovery server, istio.io/istio/pilot/test/xds) builds the listeners,
// filter chains and routes of an ingress gateway proxy, and Istio's
// simulation (istio.io/istio/pilot/pkg/simulation) picks, for a request,
// the listener, the filter chain by SNI and the virtual host by Host, as
// Envoy does. Istio's simulation matches routes on the path only; the
// route is picked here instead, as Envoy does, on the path and the
// headers (the :authority match of a wildcard host's routes).

var dump = flag.Bool("dump", false, "log each routing case's generated objects and the listeners and routes istiod makes of them")

// world is what a routing case puts in the cluster: Ingresses, the
// Services of their backends, and the TLS Secrets in istio-system.
type world struct {
	ings    []*networkingv1.Ingress
	svcs    []*corev1.Service
	secrets []string
}

// request is what a client sends: scheme "http" (port 80) or "https"
// (port 443, SNI = host), the Host header, the path, and other headers
// (names in lower case).
type request struct {
	scheme, host, path string
	headers            map[string]string
}

func (r request) String() string { return r.scheme + "://" + r.host + r.path }

func parseRequest(s string) (request, error) {
	u, err := url.Parse(s)
	if err != nil {
		return request{}, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return request{}, fmt.Errorf("%s: scheme must be http or https", s)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return request{scheme: u.Scheme, host: u.Host, path: p}, nil
}

// outcome is what the gateway does with a request: the backend reached
// ("service.namespace:port"; "" for a 404 or when nothing serves the
// request) and, over https, the Secret whose certificate the filter chain
// presents. A route's other answers are set apart: the path the backend
// receives after the route's rewrite, the destinations of a weighted
// split ("service.namespace:port weight N", backend then empty), and a
// redirect ("301 https://host/path", backend then empty). problem is set
// for anything else (a direct response, several filter chains matching).
// how says what Istio matched, for messages.
type outcome struct {
	backend, secret, problem string
	path, redirect           string
	weights                  []string
	how                      []string
}

func (o outcome) String() string {
	s := o.backend
	switch {
	case o.problem != "":
		return o.problem
	case o.redirect != "":
		return "redirect " + o.redirect
	case o.weights != nil:
		s = strings.Join(o.weights, ", ")
	case s == "":
		s = "404 (or not served)"
	}
	if o.secret != "" {
		s += ", certificate of Secret " + o.secret
	}
	return s
}

// gateway is an ingress gateway proxy (labels istio=ingressgateway, in
// istio-system) as istiod configures it for a world.
type gateway struct {
	sim    *simulation.Simulation
	routes map[string]*route.RouteConfiguration
	// istiod is the fake istiod, to set up other proxies with.
	istiod *xds.FakeDiscoveryServer
}

// startGateway converts w's Ingresses and loads the result into a fake
// istiod, with istiod's own Ingress conversion off (meshConfig
// ingressControllerMode OFF, as ingressguard's install requires) and w's
// Ingresses, Services and Secrets in its fake cluster. Ingresses that
// convert refuses and objects that istiod's validating webhook refuses
// fail the test and are left out, as a cluster would never hold them.
//
// Istio orders Gateways and VirtualServices by creationTimestamp, then by
// name; when a route table merges several, that order decides between
// their routes. order says when the objects were created: all in the
// same second (timestamps have one-second resolution, so this is what
// writing them in one pass gives; Istio then orders them by name), or one
// second apart in the reverse order of their names. What a request gets
// must not depend on it.
func startGateway(t *testing.T, w world, order creation) *gateway {
	t.Helper()
	secrets := map[string]bool{}
	for _, s := range w.secrets {
		secrets[s] = true
	}
	// Cases share hosts across namespaces, as a cluster with
	// --host-ownership=false serves them.
	settings := convert.DefaultSettings()
	settings.HostOwnership = false
	res, refused := admitted(settings, convert.Snapshot{
		Ingresses: w.ings, Services: w.svcs, Credentials: convert.StaticCredentials{Secrets: secrets},
	})
	if len(refused) > 0 {
		for _, r := range res.Reports {
			for _, e := range r.Errors {
				t.Errorf("ingressguard refuses Ingress %s: %v", r.Ingress, e)
			}
		}
		t.Errorf("ingressguard refuses Ingresses %v, which this case needs; they are left out", refused)
	}
	wh := newWebhook(t)
	var configs []config.Config
	for _, obj := range res.Objects() {
		warnings, err := wh.admit(obj)
		for _, w := range warnings {
			t.Logf("%s: istiod's validation warns: %s", describe(obj), w)
		}
		if err != nil {
			t.Errorf("%s: istiod's validation refuses it, so the cluster does not hold it: %v\n%s", describe(obj), err, toYAML(obj))
			continue
		}
		cfg, err := istioConfig(obj)
		if err != nil {
			t.Fatalf("%s: %v", describe(obj), err)
		}
		configs = append(configs, cfg)
	}
	order.stamp(configs)
	var kube []runtime.Object
	for _, ing := range w.ings {
		kube = append(kube, ing.DeepCopy())
	}
	for i, svc := range w.svcs {
		svc = svc.DeepCopy()
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = fmt.Sprintf("10.96.%d.%d", i/250, 1+i%250)
		}
		kube = append(kube, svc)
	}
	for _, name := range w.secrets {
		kube = append(kube, tlsSecret(t, name))
	}
	m := mesh.DefaultMeshConfig()
	m.IngressControllerMode = meshconfig.MeshConfig_OFF
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{Configs: configs, KubernetesObjects: kube, MeshConfig: m})
	proxy := s.SetupProxy(&model.Proxy{
		Type:            model.Router,
		Labels:          gatewayLabels,
		ConfigNamespace: gatewayNamespace,
		Metadata:        &model.NodeMetadata{Labels: gatewayLabels, Namespace: gatewayNamespace, IstioVersion: "1.31.0"},
	})
	sim := simulation.NewSimulation(t, s, proxy)
	if *dump {
		for _, obj := range res.Objects() {
			t.Logf("generated %s:\n%s", describe(obj), toYAML(obj))
		}
		t.Logf("listeners:\n%s", xdstest.DumpList(t, sim.Listeners))
		t.Logf("routes:\n%s", xdstest.DumpList(t, sim.Routes))
	}
	xdstest.ValidateListeners(t, sim.Listeners)
	xdstest.ValidateRouteConfigurations(t, sim.Routes)
	return &gateway{sim: sim, routes: xdstest.ExtractRouteConfigurations(sim.Routes), istiod: s}
}

// creation is an order in which the generated objects were created.
type creation int

const (
	sameSecond   creation = iota // all in one second: Istio orders them by name
	reverseNames                 // one second apart, in the reverse order of their names
)

func (c creation) String() string {
	if c == reverseNames {
		return "created in reverse name order"
	}
	return "created in one second"
}

// stamp sets the creationTimestamp of configs.
func (c creation) stamp(configs []config.Config) {
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	byName := slices.Clone(configs)
	slices.SortFunc(byName, func(a, b config.Config) int { return strings.Compare(a.Name, b.Name) })
	at := map[string]time.Time{}
	for i, cfg := range byName {
		at[cfg.GroupVersionKind.Kind+"/"+cfg.Name] = base
		if c == reverseNames {
			at[cfg.GroupVersionKind.Kind+"/"+cfg.Name] = base.Add(time.Duration(len(byName)-i) * time.Second)
		}
	}
	for i := range configs {
		configs[i].CreationTimestamp = at[configs[i].GroupVersionKind.Kind+"/"+configs[i].Name]
	}
}

// serve sends req through the gateway.
func (g *gateway) serve(t *testing.T, req request) outcome {
	t.Helper()
	call := simulation.Call{
		Port: 80, Protocol: simulation.HTTP, CallMode: simulation.CallModeGateway,
		HostHeader: req.host, Path: req.path,
	}
	if req.scheme == "https" {
		call.Port, call.TLS = 443, simulation.TLS // SNI is the Host
	}
	var chain *listener.FilterChain
	call.CustomListenerValidations = []simulation.CustomFilterChainValidation{
		func(fc *listener.FilterChain) error { chain = fc; return nil },
	}
	res := g.sim.Run(call)
	var out outcome
	if res.ListenerMatched != "" {
		out.how = append(out.how, "listener "+res.ListenerMatched)
	}
	if chain != nil {
		out.how = append(out.how, fmt.Sprintf("filter chain %q (server names %v)", chain.GetName(), chain.GetFilterChainMatch().GetServerNames()))
		if req.scheme == "https" {
			secret, err := certificateSecret(chain)
			if err != nil {
				out.problem = err.Error()
				return out
			}
			out.secret = secret
			if secret != "" {
				out.how = append(out.how, "certificate kubernetes://"+secret)
			}
		}
	}
	if res.RouteConfigMatched != "" {
		out.how = append(out.how, "route config "+res.RouteConfigMatched)
	}
	if res.VirtualHostMatched != "" {
		out.how = append(out.how, "virtual host "+res.VirtualHostMatched)
	}
	switch {
	case errors.Is(res.Error, simulation.ErrNoListener), errors.Is(res.Error, simulation.ErrNoFilterChain):
		out.how = append(out.how, "not served: "+res.Error.Error())
		return out
	case errors.Is(res.Error, simulation.ErrNoVirtualHost):
		out.how = append(out.how, "404: "+res.Error.Error())
		return out
	case res.Error != nil && !errors.Is(res.Error, simulation.ErrNoRoute):
		out.problem = "Istio's simulation: " + res.Error.Error()
		return out
	}
	vh := virtualHost(g.routes[res.RouteConfigMatched], res.VirtualHostMatched)
	if vh == nil {
		out.problem = fmt.Sprintf("virtual host %q of route config %q not found", res.VirtualHostMatched, res.RouteConfigMatched)
		return out
	}
	r, err := envoyRoute(vh, req)
	if err != nil {
		out.problem = err.Error()
		return out
	}
	if r == nil {
		out.how = append(out.how, "404: no route matched")
		return out
	}
	out.how = append(out.how, fmt.Sprintf("route %q", r.GetName()))
	if r.GetName() != res.RouteMatched {
		out.how = append(out.how, fmt.Sprintf("(Istio's simulation, which ignores header matches, picks route %q)", res.RouteMatched))
	}
	switch a := r.GetAction().(type) {
	case *route.Route_Route:
		p, err := rewritten(a.Route, r.GetMatch(), req.path)
		if err != nil {
			out.problem = fmt.Sprintf("route %q: %v", r.GetName(), err)
			return out
		}
		out.path = p
		if w := a.Route.GetWeightedClusters(); w != nil {
			for _, c := range w.GetClusters() {
				out.weights = append(out.weights, fmt.Sprintf("%s weight %d", backendOf(c.GetName()), c.GetWeight().GetValue()))
			}
			return out
		}
		c := a.Route.GetCluster()
		if c == "" {
			out.problem = fmt.Sprintf("route %q has no single cluster: %v", r.GetName(), a.Route.GetClusterSpecifier())
			return out
		}
		out.backend = backendOf(c)
	case *route.Route_Redirect:
		out.redirect = redirectOf(a.Redirect, req)
	case *route.Route_DirectResponse:
		if a.DirectResponse.GetStatus() != 404 {
			out.problem = fmt.Sprintf("direct response %d from route %q", a.DirectResponse.GetStatus(), r.GetName())
		}
	default:
		out.problem = fmt.Sprintf("route %q: %T", r.GetName(), a)
	}
	return out
}

// rewritten is the path that action sends the backend for a request of
// path matched by m, as Envoy rewrites it: prefix_rewrite replaces the
// matched prefix (or the whole path of an exact match), regex_rewrite
// replaces every match of its pattern in the path with its substitution,
// whose \N are the pattern's groups; the query is kept by both.
func rewritten(action *route.RouteAction, m *route.RouteMatch, path string) (string, error) {
	p, query, _ := strings.Cut(path, "?")
	if query != "" {
		query = "?" + query
	}
	switch {
	case action.GetRegexRewrite() != nil:
		re, err := regexp.Compile(action.GetRegexRewrite().GetPattern().GetRegex())
		if err != nil {
			return "", err
		}
		sub := regexp.MustCompile(`\\([0-9])`).ReplaceAllString(action.GetRegexRewrite().GetSubstitution(), `${$1}`)
		return re.ReplaceAllString(p, sub) + query, nil
	case action.GetPrefixRewrite() != "":
		switch ps := m.GetPathSpecifier().(type) {
		case *route.RouteMatch_Prefix:
			return action.GetPrefixRewrite() + p[len(ps.Prefix):] + query, nil
		case *route.RouteMatch_PathSeparatedPrefix:
			return action.GetPrefixRewrite() + p[len(ps.PathSeparatedPrefix):] + query, nil
		case *route.RouteMatch_Path:
			return action.GetPrefixRewrite() + query, nil
		}
		return "", fmt.Errorf("prefix_rewrite with path matcher %T is not modelled", m.GetPathSpecifier())
	}
	return path, nil
}

// redirectOf is the answer of a redirect action to req: its code and
// Location, as Envoy builds it from the request and the action.
func redirectOf(r *route.RedirectAction, req request) string {
	codes := map[route.RedirectAction_RedirectResponseCode]int{
		route.RedirectAction_MOVED_PERMANENTLY: 301, route.RedirectAction_FOUND: 302, route.RedirectAction_SEE_OTHER: 303,
		route.RedirectAction_TEMPORARY_REDIRECT: 307, route.RedirectAction_PERMANENT_REDIRECT: 308,
	}
	scheme, host, path := req.scheme, req.host, req.path
	if r.GetHttpsRedirect() {
		scheme = "https"
	}
	if r.GetSchemeRedirect() != "" {
		scheme = r.GetSchemeRedirect()
	}
	if r.GetHostRedirect() != "" {
		host = r.GetHostRedirect()
	}
	if r.GetPortRedirect() != 0 {
		host = fmt.Sprintf("%s:%d", strings.Split(host, ":")[0], r.GetPortRedirect())
	}
	if r.GetPathRedirect() != "" {
		_, query, _ := strings.Cut(path, "?")
		path = r.GetPathRedirect()
		if query != "" && !strings.Contains(path, "?") && !r.GetStripQuery() {
			path += "?" + query
		}
	}
	return fmt.Sprintf("%d %s://%s%s", codes[r.GetResponseCode()], scheme, host, path)
}

// backendOf turns a cluster name, "outbound|80||web.shop.svc.cluster.local",
// into "web.shop:80".
func backendOf(cluster string) string {
	parts := strings.Split(cluster, "|")
	if len(parts) != 4 || parts[0] != "outbound" {
		return cluster
	}
	return strings.TrimSuffix(parts[3], ".svc."+domainSuffix) + ":" + parts[1]
}

// certificateSecret is the Secret whose certificate chain presents: its
// SDS resource name is "kubernetes://<secret>".
func certificateSecret(chain *listener.FilterChain) (string, error) {
	if chain.GetTransportSocket() == nil {
		return "", nil
	}
	var ctx tlsv3.DownstreamTlsContext
	if err := chain.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil {
		return "", fmt.Errorf("filter chain %q: %v", chain.GetName(), err)
	}
	var names []string
	for _, sds := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
		names = append(names, sds.GetName())
	}
	if len(names) != 1 || !strings.HasPrefix(names[0], "kubernetes://") {
		return "", fmt.Errorf("filter chain %q presents certificates %v, want one kubernetes://<secret>", chain.GetName(), names)
	}
	return strings.TrimPrefix(names[0], "kubernetes://"), nil
}

func virtualHost(rc *route.RouteConfiguration, name string) *route.VirtualHost {
	for _, vh := range rc.GetVirtualHosts() {
		if vh.GetName() == name {
			return vh
		}
	}
	return nil
}

// envoyRoute is the first route of vh that matches req, as Envoy picks
// it: path (prefix, exact, path-separated prefix, regex), case
// sensitivity and header matches. A match on anything else is an error,
// not a guess.
func envoyRoute(vh *route.VirtualHost, req request) (*route.Route, error) {
	for _, r := range vh.GetRoutes() {
		ok, err := routeMatches(r.GetMatch(), req)
		if err != nil {
			return nil, fmt.Errorf("route %q: %v", r.GetName(), err)
		}
		if ok {
			return r, nil
		}
	}
	return nil, nil
}

func routeMatches(m *route.RouteMatch, req request) (bool, error) {
	if len(m.GetQueryParameters()) > 0 || m.GetRuntimeFraction() != nil || m.GetGrpc() != nil ||
		m.GetTlsContext() != nil || len(m.GetDynamicMetadata()) > 0 || len(m.GetFilterState()) > 0 || len(m.GetCookies()) > 0 {
		return false, fmt.Errorf("match %v: only path and header matches are modelled", m)
	}
	sensitive := m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	p, norm := req.path, func(s string) string { return s }
	if !sensitive {
		norm = strings.ToLower
	}
	var ok bool
	switch ps := m.GetPathSpecifier().(type) {
	case *route.RouteMatch_Prefix:
		ok = strings.HasPrefix(norm(p), norm(ps.Prefix))
	case *route.RouteMatch_Path:
		ok = norm(p) == norm(ps.Path)
	case *route.RouteMatch_PathSeparatedPrefix:
		// the prefix, then the end of the path or a '/'
		pre := norm(ps.PathSeparatedPrefix)
		ok = norm(p) == pre || strings.HasPrefix(norm(p), pre+"/")
	case *route.RouteMatch_SafeRegex:
		re, err := fullRegexp(ps.SafeRegex.GetRegex())
		if err != nil {
			return false, err
		}
		ok = re.MatchString(p)
	default:
		return false, fmt.Errorf("path matcher %T is not modelled", ps)
	}
	if !ok {
		return false, nil
	}
	for _, h := range m.GetHeaders() {
		ok, err := headerMatches(h, req)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// headerValue is the value of a request header as Envoy sees it: the
// Host header is :authority.
func headerValue(name string, req request) (string, bool) {
	switch strings.ToLower(name) {
	case ":authority", "host":
		return req.host, true
	case ":path":
		return req.path, true
	case ":method":
		return "GET", true
	case ":scheme":
		return req.scheme, true
	}
	v, ok := req.headers[strings.ToLower(name)]
	return v, ok
}

func headerMatches(h *route.HeaderMatcher, req request) (bool, error) {
	value, present := headerValue(h.GetName(), req)
	if !present && h.GetTreatMissingHeaderAsEmpty() {
		value, present = "", true
	}
	var ok bool
	switch spec := h.GetHeaderMatchSpecifier().(type) {
	case *route.HeaderMatcher_PresentMatch:
		ok = present == spec.PresentMatch
	case *route.HeaderMatcher_StringMatch:
		if !present {
			break
		}
		var err error
		if ok, err = stringMatches(spec.StringMatch, value); err != nil {
			return false, fmt.Errorf("header %s: %v", h.GetName(), err)
		}
	default:
		return false, fmt.Errorf("header %s: matcher %T is not modelled", h.GetName(), spec)
	}
	return ok != h.GetInvertMatch(), nil
}

func stringMatches(m *matcher.StringMatcher, value string) (bool, error) {
	norm := func(s string) string { return s }
	if m.GetIgnoreCase() {
		norm = strings.ToLower
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcher.StringMatcher_Exact:
		return norm(value) == norm(p.Exact), nil
	case *matcher.StringMatcher_Prefix:
		return strings.HasPrefix(norm(value), norm(p.Prefix)), nil
	case *matcher.StringMatcher_Suffix:
		return strings.HasSuffix(norm(value), norm(p.Suffix)), nil
	case *matcher.StringMatcher_Contains:
		return strings.Contains(norm(value), norm(p.Contains)), nil
	case *matcher.StringMatcher_SafeRegex:
		re, err := fullRegexp(p.SafeRegex.GetRegex())
		if err != nil {
			return false, err
		}
		return re.MatchString(value), nil
	}
	return false, fmt.Errorf("string matcher %v is not modelled", m)
}

// fullRegexp compiles an Envoy (RE2) regex, which must match the whole
// value.
func fullRegexp(re string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + re + `)$`)
}

// tlsSecret is a kubernetes.io/tls Secret in istio-system named name,
// with a throwaway self-signed certificate.
func tlsSecret(t *testing.T, name string) *corev1.Secret {
	pair, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: gatewayNamespace, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: pair.cert, corev1.TLSPrivateKeyKey: pair.key},
	}
}

// pemPair is a certificate and its key, PEM-encoded.
type pemPair struct{ cert, key []byte }

// selfSigned makes one certificate and key for every Secret.
var selfSigned = sync.OnceValues(func() (pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pemPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ingressguard test"},
		DNSNames:     []string{"*.example.com", "example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return pemPair{}, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return pemPair{}, err
	}
	return pemPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
})

// withServices adds to svcs a Service for every backend of ings by port
// number whose Service svcs does not define, with the ports the
// backends name, as a cluster would have them.
func withServices(ings []*networkingv1.Ingress, svcs []*corev1.Service) []*corev1.Service {
	out := slices.Clone(svcs)
	given := map[string]bool{}
	for _, s := range svcs {
		given[s.Namespace+"/"+s.Name] = true
	}
	made := map[string]*corev1.Service{}
	add := func(ns string, b *networkingv1.IngressBackend) {
		if b == nil || b.Service == nil || b.Service.Port.Number == 0 || given[ns+"/"+b.Service.Name] {
			return
		}
		s := made[ns+"/"+b.Service.Name]
		if s == nil {
			s = service(ns, b.Service.Name)
			made[ns+"/"+b.Service.Name] = s
			out = append(out, s)
		}
		port := b.Service.Port.Number
		if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port }) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("http-%d", port), Port: port})
		}
	}
	for _, ing := range ings {
		add(ing.Namespace, ing.Spec.DefaultBackend)
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for i := range r.HTTP.Paths {
				add(ing.Namespace, &r.HTTP.Paths[i].Backend)
			}
		}
	}
	return out
}
