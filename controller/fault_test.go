package controller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
)

// faultProxy starts an envtest.FaultProxy in front of env's API server,
// closed when the test ends (after the reconcilers it serves stop, since
// those are started after it).
func faultProxy(t *testing.T, env *envtest.Env) *envtest.FaultProxy {
	t.Helper()
	p, err := envtest.StartFaultProxy(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// generated reports whether r is about a Gateway or VirtualService.
func generated(r envtest.Request) bool {
	return r.Group == "networking.istio.io" && (r.Resource == "gateways" || r.Resource == "virtualservices")
}

func isWrite(r envtest.Request) bool  { return r.Write() }
func isDelete(r envtest.Request) bool { return r.Method == http.MethodDelete }
func isUpdate(r envtest.Request) bool {
	return r.Method == http.MethodPut || r.Method == http.MethodPatch
}

// cutOff makes p reset every request from now on: the process behind it
// is as good as killed, and cannot release its lease.
func cutOff(p *envtest.FaultProxy) {
	p.SetRule(func(envtest.Request) envtest.Fault { return envtest.Fault{Reset: true} })
}

// createIngresses creates n Ingresses in namespace ns, Ingress i with host
// hI.example.com and one path to Service svc-i.
func createIngresses(t *testing.T, env *envtest.Env, ns string, n int) []*networkingv1.Ingress {
	t.Helper()
	createNamespace(t, env, ns)
	ings := make([]*networkingv1.Ingress, n)
	for i := range n {
		ings[i] = ingress(ns, fmt.Sprintf("app-%d", i), time.Time{}, fmt.Sprintf("h%d.example.com", i),
			path{path: "/", pathType: "Prefix", service: fmt.Sprintf("svc-%d", i), port: 80})
		if err := env.Client.Create(context.Background(), ings[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ings
}

// equalsConvert checks that the Gateways and VirtualServices of the gateway
// namespace are exactly convert's output for the API server's objects: each
// of convert's objects exists with its labels, annotations and spec, and no
// other exists (no duplicate, no leftover).
func equalsConvert(env *envtest.Env) func() error {
	return func() error {
		ctx := context.Background()
		want, err := envtest.Desired(ctx, env.Client, convert.DefaultSettings())
		if err != nil {
			return err
		}
		var gws istionet.GatewayList
		var vss istionet.VirtualServiceList
		if err := env.Client.List(ctx, &gws, client.InNamespace(gwNS)); err != nil {
			return err
		}
		if err := env.Client.List(ctx, &vss, client.InNamespace(gwNS)); err != nil {
			return err
		}
		live := map[string]client.Object{}
		liveSpec := map[string]proto.Message{}
		for _, g := range gws.Items {
			live["Gateway "+g.Name], liveSpec["Gateway "+g.Name] = g, &g.Spec
		}
		for _, v := range vss.Items {
			live["VirtualService "+v.Name], liveSpec["VirtualService "+v.Name] = v, &v.Spec
		}
		var problems []string
		check := func(key string, w client.Object, spec proto.Message) {
			l, ok := live[key]
			delete(live, key)
			switch {
			case !ok:
				problems = append(problems, key+" is missing")
			case !proto.Equal(liveSpec[key], spec) || !contains(l.GetLabels(), w.GetLabels()) || !contains(l.GetAnnotations(), w.GetAnnotations()):
				problems = append(problems, key+" differs from convert's")
			}
		}
		for _, g := range want.Gateways {
			check("Gateway "+g.Name, g, &g.Spec)
		}
		for _, v := range want.VirtualServices {
			check("VirtualService "+v.Name, v, &v.Spec)
		}
		for key := range live {
			problems = append(problems, key+" is not convert's")
		}
		if len(problems) > 0 {
			return fmt.Errorf("%d objects differ from convert's output, such as: %s", len(problems), strings.Join(problems[:min(3, len(problems))], "; "))
		}
		return nil
	}
}

// closed reports whether c is closed.
func closed(c <-chan struct{}) func() bool {
	return func() bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
}

// TestConflictsOnUpdate: the first updates (patches and updates) of every
// Gateway and VirtualService are answered 409 Conflict (as when another
// writer got there first); the reconciler reads again, retries, and
// converges to convert's output.
func TestConflictsOnUpdate(t *testing.T) {
	const conflictsPerObject = 3
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	proxy := faultProxy(t, env)
	var mu sync.Mutex
	conflicts := map[string]int{}
	proxy.SetRule(func(r envtest.Request) envtest.Fault {
		if !isUpdate(r) || !generated(r) {
			return envtest.Fault{}
		}
		mu.Lock()
		defer mu.Unlock()
		if conflicts[r.Resource+"/"+r.Name] == conflictsPerObject {
			return envtest.Fault{}
		}
		conflicts[r.Resource+"/"+r.Name]++
		return envtest.Fault{Status: http.StatusConflict}
	})
	startReplica(t, env, replica{config: proxy.Config()})
	ings := createIngresses(t, env, "web", 3)
	envtest.Eventually(t, "first convergence", equalsConvert(env))
	// Every host's objects change: a TLS server on the Gateway, a new route
	// in the VirtualService, each an update.
	for _, ing := range ings {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: gwNS, Name: ing.Name + "-tls"}}
		if err := env.Client.Create(ctx, secret); err != nil {
			t.Fatal(err)
		}
		editIngress(t, env, ing, func(ing *networkingv1.Ingress) {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{ing.Spec.Rules[0].Host}, SecretName: ing.Name + "-tls"}}
			addPath("/healthz")(ing)
		})
	}
	envtest.Eventually(t, "convergence through the conflicts", equalsConvert(env))
	if got, want := proxy.Faulted(isUpdate), 2*len(ings)*conflictsPerObject; got != want {
		t.Fatalf("%d updates were answered 409, want %d (every Gateway and VirtualService, %d times)", got, want, conflictsPerObject)
	}
}

// outage is how long TestWriteOutage refuses every write: the 30
// seconds, long enough for a key's backoff (5 ms, doubling) to reach
// seconds and for client-go's Retry-After loop to give up and start again
// twice. Its cases run in parallel, so the test spends it once.
const outage = 30 * time.Second

// outageBound is a generous ceiling on the write requests that keys work
// keys can make during an outage of d in which every write is answered
// with retryAfter (seconds, 0 for none), each key triggered afresh by
// events at most triggers times.
//
// controller-runtime requeues a failed key after 5 ms, 10 ms, 20 ms, ...
// (retries in setup.go, capped at MaxRetryDelay), so within d a key is
// retried at most bits.Len(d / 5 ms) times after its first try and each
// trigger. A try makes one write (the reconcilers stop at the first error),
// which client-go repeats up to 10 times when the answer has Retry-After,
// waiting as long as it says, so then a try also takes at least 10 ×
// retryAfter seconds, which bounds the tries too. The ceiling is twice
// that, for triggers the test did not foresee: a reconciler that did not
// back off would make thousands of writes a second.
func outageBound(keys, triggers int, d time.Duration, retryAfter int) int {
	tries := bits.Len64(uint64(d/(5*time.Millisecond))) + 1 + triggers
	attempts := 1
	if retryAfter > 0 {
		attempts = 11
		tries = min(tries, int(d/(10*time.Duration(retryAfter)*time.Second))+1+triggers)
	}
	return 2 * keys * tries * attempts
}

// TestWriteOutage: while every write is refused (429 with Retry-After,
// 500, 503 with Retry-After, or a reset connection) for outage, the
// reconciler's write requests stay within outageBound, it deletes nothing,
// and once writes succeed again everything converges to convert's output,
// status included.
func TestWriteOutage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault envtest.Fault
	}{
		{"429 with Retry-After", envtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}},
		{"500", envtest.Fault{Status: http.StatusInternalServerError}},
		{"503 with Retry-After", envtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: 1}},
		{"connection reset", envtest.Fault{Reset: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := envtest.StartT(t, envtest.Options{})
			ctx := context.Background()
			proxy := faultProxy(t, env)
			svc := gatewayService(t, env, "192.0.2.1")
			startReplica(t, env, replica{config: proxy.Config()})
			ings := createIngresses(t, env, "web", 3)
			envtest.Eventually(t, "convergence before the outage", equalsConvert(env))
			for _, ing := range ings {
				envtest.Eventually(t, "status before the outage", wantStatusIP(env, ing.Namespace, ing.Name, "192.0.2.1"))
			}

			proxy.SetRule(func(r envtest.Request) envtest.Fault {
				if r.Write() {
					return tc.fault
				}
				return envtest.Fault{}
			})
			// Work for both reconcilers: every host gets a new path, a new
			// Ingress a new host, and every status a new address.
			for _, ing := range ings {
				editIngress(t, env, ing, addPath("/healthz"))
			}
			more := ingress("web", "more", time.Time{}, "more.example.com", path{path: "/", pathType: "Prefix", service: "more", port: 80})
			if err := env.Client.Create(ctx, more); err != nil {
				t.Fatal(err)
			}
			setLoadBalancerIP(t, env, svc, "192.0.2.2")
			time.Sleep(outage)
			writes := proxy.Faulted(isWrite)
			proxy.SetRule(nil)
			back := time.Now()

			// Keys: 4 hosts and 4 Ingresses; each triggered by its edit
			// and the Service's change, and by the watch events of its
			// own objects, none of which changed: 3 triggers is generous.
			bound := outageBound(8, 3, outage, tc.fault.RetryAfter)
			t.Logf("%d write requests refused during the %v outage (bound %d)", writes, outage, bound)
			if writes == 0 {
				t.Fatal("no write was attempted during the outage")
			}
			if writes > bound {
				t.Errorf("%d write requests during the outage, more than the bound %d: the reconcilers do not back off", writes, bound)
			}
			if n := proxy.Seen(isDelete); n != 0 {
				t.Errorf("%d delete requests during or before the outage, want none", n)
			}
			envtest.Eventually(t, "convergence after the outage", equalsConvert(env))
			for _, ing := range append(ings, more) {
				envtest.Eventually(t, "status after the outage", wantStatusIP(env, ing.Namespace, ing.Name, "192.0.2.2"))
			}
			t.Logf("converged %v after writes succeeded again", time.Since(back).Round(time.Second))
		})
	}
}

// TestRacesAndCacheLag: the reconciler's watches of Gateways and
// VirtualServices lag (every event through the proxy is held back), and
// just before it creates an object, another writer (an old leader, say)
// creates the same one, labelled as ours but with a stale spec, so the
// create fails AlreadyExists and the cache does not know the object for a
// while. The reconciler takes the object over (the same object, updated,
// never deleted) and converges to convert's output, with no duplicates.
func TestRacesAndCacheLag(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	proxy := faultProxy(t, env)
	const lag = time.Second
	hosts := map[string]string{} // object name -> host
	for i := range 4 {
		h := fmt.Sprintf("h%d.example.com", i)
		hosts[convert.ObjectName(h)] = h
	}
	var mu sync.Mutex
	raced := map[string]client.Object{} // resource/name -> the object created behind the reconciler's back
	proxy.SetRule(func(r envtest.Request) envtest.Fault {
		if !generated(r) {
			return envtest.Fault{}
		}
		if r.Watch {
			return envtest.Fault{Lag: lag}
		}
		if r.Method != http.MethodPost {
			return envtest.Fault{}
		}
		return envtest.Fault{Before: func(body []byte) {
			mu.Lock()
			defer mu.Unlock()
			if len(raced) == len(hosts)*2 {
				return
			}
			obj := behindTheBack(t, env, r.Resource, body)
			if obj != nil {
				raced[r.Resource+"/"+obj.GetName()] = obj
			}
		}}
	})
	startReplica(t, env, replica{config: proxy.Config()})
	createIngresses(t, env, "web", len(hosts))
	envtest.Eventually(t, "convergence", equalsConvert(env))
	if got := proxy.Seen(func(r envtest.Request) bool { return r.Method == http.MethodPost && generated(r) }); got < 2*len(hosts) {
		t.Fatalf("%d creates of Gateways and VirtualServices, want at least %d", got, 2*len(hosts))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(raced) != 2*len(hosts) {
		t.Fatalf("%d creates raced, want %d", len(raced), 2*len(hosts))
	}
	for key, obj := range raced {
		live := obj.DeepCopyObject().(client.Object)
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), live); err != nil {
			t.Fatal(err)
		}
		if live.GetUID() != obj.GetUID() {
			t.Errorf("%s was deleted and created again, want it updated in place", key)
		}
	}
	if n := proxy.Seen(isDelete); n != 0 {
		t.Errorf("%d delete requests, want none", n)
	}
}

// behindTheBack creates, through env's own client, the object that the
// create request body is about to create, labelled as ours but with a
// stale spec, and returns it.
func behindTheBack(t *testing.T, env *envtest.Env, resource string, body []byte) client.Object {
	var obj client.Object
	switch resource {
	case "gateways":
		obj = &istionet.Gateway{}
	default:
		obj = &istionet.VirtualService{}
	}
	if err := json.Unmarshal(body, obj); err != nil {
		t.Errorf("reading a create request: %v", err)
		return nil
	}
	switch o := obj.(type) {
	case *istionet.Gateway:
		o.Spec.Servers = o.Spec.Servers[:1]
		o.Spec.Servers[0].Hosts = []string{"stale.example.com"}
	case *istionet.VirtualService:
		o.Spec.Http = nil
	}
	obj.SetAnnotations(map[string]string{convert.AnnotationHost: obj.GetAnnotations()[convert.AnnotationHost]})
	obj.SetResourceVersion("")
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Errorf("creating %s %s behind the reconciler's back: %v", resource, obj.GetName(), err)
		return nil
	}
	return obj
}

// TestLeaderKilledMidway: of two replicas, the leader is cut off from the
// API server (as if killed: it cannot even release its lease) after it
// created the VirtualServices of 500 of 1,000 Ingresses; the other
// replica takes over and converges everything, equal to convert's output.
func TestLeaderKilledMidway(t *testing.T) {
	const n, killAt = 1000, 500
	env := envtest.StartT(t, envtest.Options{})
	createIngresses(t, env, "web", n)
	proxy := faultProxy(t, env)
	var created atomic.Int64
	proxy.Observe(func(r envtest.Request, status int) {
		if r.Method == http.MethodPost && r.Resource == "virtualservices" && status == http.StatusCreated && created.Add(1) == killAt {
			cutOff(proxy)
		}
	})
	leader := startReplica(t, env, replica{config: proxy.Config(), leaderElection: true, cutOff: true})
	envtest.Until(t, "the first replica to lead", closed(leader.elected))
	other := startReplica(t, env, replica{leaderElection: true})
	envtest.Until(t, "the leader to be cut off", func() bool { return created.Load() >= killAt })
	leader.stop()
	// Counting the VirtualServices is cheaper than comparing them with
	// convert's output, which the test then does once or twice.
	envtest.Eventually(t, "a VirtualService for every Ingress", func() error {
		var vss metav1.PartialObjectMetadataList
		vss.SetGroupVersionKind(istionet.SchemeGroupVersion.WithKind("VirtualServiceList"))
		if err := env.Client.List(context.Background(), &vss, client.InNamespace(gwNS)); err != nil {
			return err
		}
		if len(vss.Items) < n {
			return fmt.Errorf("%d VirtualServices", len(vss.Items))
		}
		return nil
	})
	envtest.Eventually(t, "every Ingress served, as convert says", equalsConvert(env))
	if other.writes.Load() == 0 {
		t.Fatal("the other replica wrote nothing")
	}
	t.Logf("the first leader created %d VirtualServices; the second made %d write calls", created.Load(), other.writes.Load())
}

// TestDeletedWhileNoLeader: an Ingress deleted after the leader died
// (without releasing its lease) and before another replica leads: the
// replica that leads next removes its Gateway and VirtualService, and
// keeps the other Ingress's.
func TestDeletedWhileNoLeader(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	proxy := faultProxy(t, env)
	leader := startReplica(t, env, replica{config: proxy.Config(), leaderElection: true, cutOff: true})
	ings := createIngresses(t, env, "web", 2)
	envtest.Eventually(t, "convergence", equalsConvert(env))
	cutOff(proxy)
	leader.stop()
	if err := env.Client.Delete(context.Background(), ings[0]); err != nil {
		t.Fatal(err)
	}
	startReplica(t, env, replica{leaderElection: true})
	envtest.Eventually(t, "the deleted Ingress's VirtualService removed", gone(func() error { _, err := virtualService(env, "h0.example.com"); return err }))
	envtest.Eventually(t, "the deleted Ingress's Gateway removed", gone(func() error { _, err := gateway(env, "h0.example.com"); return err }))
	envtest.Eventually(t, "the other Ingress still served, as convert says", equalsConvert(env))
}

// TestLeaseRenewalBlocked: the leader's lease renewals are held until
// they time out. The leader gives up leading (its manager ends, so a
// replica without a lease never writes); the other replica takes over,
// converges a new Ingress, and answers admission all along (a dry-run
// create every 100 ms, all admitted): the API server's webhook calls go
// to it.
func TestLeaseRenewalBlocked(t *testing.T) {
	hooks, err := envtest.Webhooks(convert.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	env := envtest.StartT(t, envtest.Options{WebhookInstallOptions: hooks})
	ctx := context.Background()
	proxy := faultProxy(t, env)
	leader := startReplica(t, env, replica{config: proxy.Config(), leaderElection: true, cutOff: true})
	createNamespace(t, env, "web")
	envtest.Until(t, "the first replica to lead", closed(leader.elected))
	// Admission answers before the other replica leads: its webhook
	// server runs on every replica.
	other := startReplica(t, env, replica{leaderElection: true, webhookPort: env.Environment.WebhookInstallOptions.LocalServingPort})
	envtest.Eventually(t, "the webhook server to start and admit an Ingress", func() error {
		return env.Client.Create(ctx, ingress("web", "one", time.Time{}, "one.example.com", path{path: "/", pathType: "Prefix", service: "one", port: 80}))
	})
	envtest.Eventually(t, "the leader converges", wantRoutes(env, "one.example.com", "/*->one:80"))
	if w := other.writes.Load(); w != 0 {
		t.Fatalf("the replica that does not lead made %d write calls", w)
	}
	probe := admissionProbe(t, env)
	proxy.SetRule(func(r envtest.Request) envtest.Fault {
		if r.Group == "coordination.k8s.io" && r.Resource == "leases" {
			return envtest.Fault{Hold: true}
		}
		return envtest.Fault{}
	})
	envtest.Until(t, "the leader to stop leading", closed(leader.done))
	if leader.exit == nil || !strings.Contains(leader.exit.Error(), "leader election lost") {
		t.Errorf("the blocked leader's manager ended with %v, want leader election lost", leader.exit)
	}
	// The other replica answers admission at once, without a retry.
	if err := env.Client.Create(ctx, ingress("web", "two", time.Time{}, "two.example.com", path{path: "/", pathType: "Prefix", service: "two", port: 80})); err != nil {
		t.Fatalf("an Ingress was not admitted after the leader stopped: %v", err)
	}
	refused := ingress("web", "bad", time.Time{}, "bad.example.com", path{path: "/a(b)", pathType: "Prefix", service: "bad", port: 80})
	if err := env.Client.Create(ctx, refused); err == nil || !strings.Contains(err.Error(), "denied the request") {
		t.Errorf("an Ingress the webhook refuses was answered %v, want the webhook's refusal", err)
	}
	envtest.Eventually(t, "the other replica converges", wantRoutes(env, "two.example.com", "/*->two:80"))
	if sent, err := probe(); err != nil || sent == 0 {
		t.Errorf("admission while the lease changed hands: %d dry-run creates, error %v; want some, all admitted", sent, err)
	}
}

// admissionProbe sends a dry-run create of an Ingress every 100 ms,
// through the API server and so through the admission webhooks, until
// the returned stop is called; stop says how many it sent and the first
// error.
func admissionProbe(t *testing.T, env *envtest.Env) (stop func() (int, error)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var sent int
	var first error
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			ing := ingress("web", "probe", time.Time{}, "probe.example.com", path{path: "/", pathType: "Prefix", service: "probe", port: 80})
			if err := env.Client.Create(ctx, ing, client.DryRunAll); err != nil && first == nil && ctx.Err() == nil {
				first = err
			}
			sent++
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	stop = func() (int, error) {
		cancel()
		<-done
		return sent, first
	}
	t.Cleanup(func() { stop() })
	return stop
}

// TestClassControllerAwayAndBack: the "istio" IngressClass is replaced by
// one of another controller (spec.controller is immutable): the objects
// of its Ingresses are removed; replaced again by Istio's, they are
// restored, equal to convert's output.
func TestClassControllerAwayAndBack(t *testing.T) {
	env := envtest.StartT(t, envtest.Options{})
	ctx := context.Background()
	startReconciler(t, env, false)
	createIngresses(t, env, "web", 2)
	envtest.Eventually(t, "convergence", equalsConvert(env))
	replaceClass := func(controller string) {
		t.Helper()
		class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: envtest.IngressClassName}}
		if err := env.Client.Delete(ctx, class); err != nil {
			t.Fatal(err)
		}
		class.Spec.Controller = controller
		envtest.Eventually(t, "the IngressClass recreated", func() error {
			err := env.Client.Create(ctx, class.DeepCopy())
			if apierrors.IsAlreadyExists(err) {
				return errors.New("the old class is still being deleted")
			}
			return err
		})
	}
	replaceClass("example.com/another-controller")
	for _, h := range []string{"h0.example.com", "h1.example.com"} {
		envtest.Eventually(t, "VirtualService removed when the class is another's", gone(func() error { _, err := virtualService(env, h); return err }))
		envtest.Eventually(t, "Gateway removed when the class is another's", gone(func() error { _, err := gateway(env, h); return err }))
	}
	replaceClass(envtest.IngressController)
	envtest.Eventually(t, "restored when the class is Istio's again", equalsConvert(env))
	var vss istionet.VirtualServiceList
	if err := env.Client.List(ctx, &vss, client.InNamespace(gwNS)); err != nil {
		t.Fatal(err)
	}
	if len(vss.Items) != 2 {
		t.Fatalf("%d VirtualServices after the class came back, want 2", len(vss.Items))
	}
}
