package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// tracker watches the generated Gateways and VirtualServices and notes when
// the last of them changed, so that convergence is timed by the API
// server's own events rather than by polling.
type tracker struct {
	cache cache.Cache

	mu   sync.Mutex
	last time.Time // when the latest add, update or delete arrived
}

func newTracker(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) (*tracker, error) {
	ours := labels.SelectorFromSet(labels.Set{convert.LabelManagedBy: convert.ManagedBy})
	c, err := cache.New(cfg, cache.Options{
		Scheme:               scheme,
		DefaultNamespaces:    map[string]cache.Config{gatewayNS: {}},
		DefaultLabelSelector: ours,
		ByObject: map[client.Object]cache.ByObject{
			&istionet.Gateway{}:        {},
			&istionet.VirtualService{}: {},
		},
	})
	if err != nil {
		return nil, err
	}
	t := &tracker{cache: c}
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
	for _, obj := range []client.Object{&istionet.Gateway{}, &istionet.VirtualService{}} {
		inf, err := c.GetInformer(ctx, obj)
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

func (t *tracker) lastChange() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// differences counts the generated objects that are missing, differ from
// want in labels, annotations or spec, or are not in want, with an example.
func (t *tracker) differences(ctx context.Context, want *convert.Result) (int, string, error) {
	n, example := 0, ""
	miss := func(format string, args ...any) {
		if n == 0 {
			example = fmt.Sprintf(format, args...)
		}
		n++
	}
	wanted := map[string]bool{}
	for _, w := range want.Gateways {
		wanted["Gateway/"+w.Name] = true
		var live istionet.Gateway
		if err := t.cache.Get(ctx, client.ObjectKeyFromObject(w), &live); err != nil {
			miss("Gateway %s: %v", w.Name, err)
		} else if !matches(&live, w, &live.Spec, &w.Spec) {
			miss("Gateway %s differs", w.Name)
		}
	}
	for _, w := range want.VirtualServices {
		wanted["VirtualService/"+w.Name] = true
		var live istionet.VirtualService
		if err := t.cache.Get(ctx, client.ObjectKeyFromObject(w), &live); err != nil {
			miss("VirtualService %s: %v", w.Name, err)
		} else if !matches(&live, w, &live.Spec, &w.Spec) {
			miss("VirtualService %s differs", w.Name)
		}
	}
	var gws istionet.GatewayList
	var vss istionet.VirtualServiceList
	if err := t.cache.List(ctx, &gws); err != nil {
		return 0, "", err
	}
	if err := t.cache.List(ctx, &vss); err != nil {
		return 0, "", err
	}
	for _, g := range gws.Items {
		if !wanted["Gateway/"+g.Name] {
			miss("Gateway %s is not convert's", g.Name)
		}
	}
	for _, v := range vss.Items {
		if !wanted["VirtualService/"+v.Name] {
			miss("VirtualService %s is not convert's", v.Name)
		}
	}
	return n, example, nil
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
// objects only once nothing has changed for quiet: each comparison copies
// every generated object out of the cache, and while the reconcilers
// write, that CPU would be taken from them.
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
