package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// tracker watches the generated Gateways and VirtualServices and notes when
// the last of them changed, so that convergence is timed by the API
// server's own events rather than by polling. It watches their metadata
// only, and reads the objects themselves once nothing has changed for a
// while: decoding every event of a whole VirtualService cost the load
// program, and so the machine under test, about half a CPU second while
// 1,000 Ingresses converged.
type tracker struct {
	cache cache.Cache   // the generated objects' metadata
	api   client.Reader // the generated objects, from the API server

	mu   sync.Mutex
	last time.Time // when the latest add, update or delete arrived
}

// generatedKinds are the kinds of the objects the tracker watches.
var generatedKinds = []schema.GroupVersionKind{
	istionet.SchemeGroupVersion.WithKind("Gateway"),
	istionet.SchemeGroupVersion.WithKind("VirtualService"),
}

// metadataOf is an empty object of kind, for the metadata-only cache.
func metadataOf(kind schema.GroupVersionKind) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(kind)
	return m
}

func newTracker(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, api client.Reader) (*tracker, error) {
	c, err := cache.New(cfg, cache.Options{
		Scheme:               scheme,
		DefaultNamespaces:    map[string]cache.Config{gatewayNS: {}},
		DefaultLabelSelector: labels.SelectorFromSet(ours),
	})
	if err != nil {
		return nil, err
	}
	t := &tracker{cache: c, api: api}
	note := func() {
		t.mu.Lock()
		t.last = time.Now()
		t.mu.Unlock()
	}
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { note() },
		UpdateFunc: func(any, any) { note() },
		DeleteFunc: func(any) { note() },
	}
	for _, kind := range generatedKinds {
		inf, err := c.GetInformer(ctx, metadataOf(kind))
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("tracker cache did not sync")
	}
	return t, nil
}

// ours selects the generated objects.
var ours = labels.Set{convert.LabelManagedBy: convert.ManagedBy}

func (t *tracker) lastChange() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// seen maps each generated object the tracker's watches hold ("kind/name")
// to its resourceVersion.
func (t *tracker) seen(ctx context.Context) (map[string]string, error) {
	versions := map[string]string{}
	for _, kind := range generatedKinds {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(kind.GroupVersion().WithKind(kind.Kind + "List"))
		if err := t.cache.List(ctx, list); err != nil {
			return nil, err
		}
		for _, o := range list.Items {
			versions[kind.Kind+"/"+o.Name] = o.ResourceVersion
		}
	}
	return versions, nil
}

// differences counts the generated objects that are missing, differ from
// want in labels, annotations or spec, or are not in want, with an example.
// An object the watches have not seen as listed counts too: until they
// have, the time of the last change is not known.
func (t *tracker) differences(ctx context.Context, want *convert.Result) (int, string, error) {
	n, example := 0, ""
	miss := func(format string, args ...any) {
		if n == 0 {
			example = fmt.Sprintf(format, args...)
		}
		n++
	}
	var gws istionet.GatewayList
	var vss istionet.VirtualServiceList
	for _, list := range []client.ObjectList{&gws, &vss} {
		if err := t.api.List(ctx, list, client.InNamespace(gatewayNS), client.MatchingLabels(ours)); err != nil {
			return 0, "", err
		}
	}
	seen, err := t.seen(ctx)
	if err != nil {
		return 0, "", err
	}
	compare("Gateway", gws.Items, want.Gateways, func(g *istionet.Gateway) proto.Message { return &g.Spec }, seen, miss)
	compare("VirtualService", vss.Items, want.VirtualServices, func(v *istionet.VirtualService) proto.Message { return &v.Spec }, seen, miss)
	for key := range seen {
		miss("%s: deleted, and the watch has not caught up", key)
	}
	return n, example, nil
}

// compare reports to miss each object of want that live lacks or has
// otherwise, each of live that is not in want, and each of live that the
// watches have not seen at its version; it deletes live's objects from
// seen.
func compare[T client.Object](kind string, live, want []T, spec func(T) proto.Message, seen map[string]string, miss func(string, ...any)) {
	byName := make(map[string]T, len(live))
	for _, o := range live {
		byName[o.GetName()] = o
		if v, ok := seen[kind+"/"+o.GetName()]; !ok || v != o.GetResourceVersion() {
			miss("%s %s: the watch has not caught up", kind, o.GetName())
		}
		delete(seen, kind+"/"+o.GetName())
	}
	for _, w := range want {
		if o, ok := byName[w.GetName()]; !ok {
			miss("%s %s is missing", kind, w.GetName())
		} else if !matches(o, w, spec(o), spec(w)) {
			miss("%s %s differs", kind, w.GetName())
		}
		delete(byName, w.GetName())
	}
	for name := range byName {
		miss("%s %s is not convert's", kind, name)
	}
}

// matches is the reconcilers' own notion of equal: live has want's labels
// and annotations and the same spec.
func matches(live, want client.Object, liveSpec, wantSpec proto.Message) bool {
	return contains(live.GetLabels(), want.GetLabels()) && contains(live.GetAnnotations(), want.GetAnnotations()) && proto.Equal(liveSpec, wantSpec)
}

func contains(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// converged waits until the generated objects equal want and nothing has
// changed for quiet, and returns how long after t0 the last change arrived
// (0 if none came after t0). It gives up after bound. It compares the
// objects only once nothing has changed for quiet: each comparison lists
// every generated object, and while the reconcilers write, that CPU
// would be taken from them.
func (t *tracker) converged(ctx context.Context, serve *proc, want *convert.Result, t0 time.Time, quiet, bound time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(bound)
	for {
		last := t.lastChange()
		timedOut := time.Now().After(deadline)
		if time.Since(last) >= quiet || timedOut {
			n, example, err := t.differences(ctx, want)
			if err != nil {
				return 0, err
			}
			if n == 0 && t.lastChange().Equal(last) {
				return max(0, last.Sub(t0)), nil
			}
			if timedOut {
				return 0, fmt.Errorf("not converged after %v: %d objects differ from convert's, such as %s", bound, n, example)
			}
		}
		if err := serve.exited(); err != nil {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// settled waits until serve has nothing queued and has made no write for
// quiet, so that a restart finds a converged cluster (Ingress status
// included).
func settled(ctx context.Context, serve *proc, quiet, bound time.Duration) error {
	var writes float64
	var since time.Time
	return serve.waitFor(ctx, "settled", bound, func() bool {
		p, err := serve.progress()
		if err != nil {
			return false
		}
		if p.Writes != writes || p.Queued > 0 || since.IsZero() {
			writes, since = p.Writes, time.Now()
			return false
		}
		return time.Since(since) >= quiet
	})
}
