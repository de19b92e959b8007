package controller

import (
	"context"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ingressguard/ingressguard/convert"
)

// routed orders the Ingress reconciler's status writes after the host
// reconciler's route writes, in two ways:
//
//   - An Ingress's status is written only once every host it names
//     (convert.VirtualServiceHosts and convert.TLSHosts) has been
//     reconciled without error from the Ingress as it is now
//     (routingVersion). A status address then says that ingressguard
//     has written the Ingress's routes, so that `kubectl wait` for it, or
//     a GitOps tool's health check, waits for them.
//   - Status writes wait while the host reconciler works (see quiet): in
//     a burst (a release of many Ingresses, a start), the routes, which
//     serve traffic, go first, and the status patches, one per Ingress,
//     do not take the API server from them.
//
// It remembers, per Ingress, the routing version each of its hosts was
// last reconciled from: a short slice per Ingress (most name one or two
// hosts), kept until the Ingress goes.
type routed struct {
	mu sync.Mutex
	// hosts maps an Ingress to its host keys' routing versions: those of
	// the Ingress in the last reconcile of each that succeeded.
	hosts map[types.NamespacedName][]hostVersion
	// waiting holds the Ingresses whose status write waits for their
	// routes; a host reconcile that completes one adds it to queue.
	waiting map[types.NamespacedName]bool
	queue   workqueue.TypedInterface[reconcile.Request] // the Ingress reconciler's
	// active counts host reconciles running; last is when one last began
	// or ended; busy is when the host reconciler last began to work after
	// quietFor or more without.
	active     int
	last, busy time.Time
	// quietFor is how long the host reconciler must have done nothing for
	// status writes to go; maxDefer bounds how long they wait for it.
	quietFor, maxDefer time.Duration
}

// Defaults of routed's waits. StatusQuiet is longer than DefaultCoalesce,
// the pause between an Ingress's change and its hosts' reconcile, so that
// a stream of changes a few at a time is one burst.
const (
	StatusQuiet    = 250 * time.Millisecond
	MaxStatusDefer = 15 * time.Second
)

// hostVersion is the routing version of an Ingress that host was last
// reconciled from.
type hostVersion struct {
	host    string
	version uint64
}

func newRouted() *routed {
	return &routed{hosts: map[types.NamespacedName][]hostVersion{}, waiting: map[types.NamespacedName]bool{},
		quietFor: StatusQuiet, maxDefer: MaxStatusDefer}
}

// routingVersion identifies what the host reconciler reads of an
// Ingress: its spec (generation), labels and annotations, under its UID.
// A status change leaves it as it is.
func routingVersion(ing *networkingv1.Ingress) uint64 {
	h := fnv.New64a()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	write(string(ing.UID))
	write(strconv.FormatInt(ing.Generation, 10))
	for _, m := range []map[string]string{ing.Labels, ing.Annotations} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			write(k)
			write(m[k])
		}
		write("")
	}
	return h.Sum64()
}

// namedHosts are the host keys an Ingress's status waits for.
func namedHosts(ing *networkingv1.Ingress) []string {
	hosts := convert.VirtualServiceHosts(ing)
	for _, h := range convert.TLSHosts(ing) {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// begin records that a host reconcile starts; the function it returns
// records that it ended.
func (r *routed) begin() func() {
	r.mu.Lock()
	now := time.Now()
	if r.active == 0 && now.Sub(r.last) >= r.quietFor {
		r.busy = now
	}
	r.active++
	r.last = now
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.active--
		r.last = time.Now()
		r.mu.Unlock()
	}
}

// reconciled records that host was reconciled without error from ings,
// the Ingresses of ours that name it as the reconcile read them, and
// queues those whose status waited for it and now has its routes. An
// Ingress that live (the cache) no longer holds with that UID is left
// out: its deletion may have been handled (forget) while the host was
// written. Hosts an Ingress no longer names are dropped from its record.
func (r *routed) reconciled(host string, ings []*networkingv1.Ingress, live func(*networkingv1.Ingress) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ing := range ings {
		if !live(ing) {
			continue
		}
		key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
		named := namedHosts(ing)
		hs := slices.DeleteFunc(r.hosts[key], func(x hostVersion) bool { return x.host == host || !slices.Contains(named, x.host) })
		r.hosts[key] = append(hs, hostVersion{host, routingVersion(ing)})
		if r.waiting[key] && r.lockedRouted(key, ing) {
			delete(r.waiting, key)
			if r.queue != nil {
				r.queue.Add(reconcile.Request{NamespacedName: key})
			}
		}
	}
}

// ready reports whether ing's hosts were all reconciled from ing as it is
// now. If not, ing waits: the reconcile of its last host queues it.
func (r *routed) ready(ing *networkingv1.Ingress) bool {
	key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := r.lockedRouted(key, ing)
	if ok {
		delete(r.waiting, key)
	} else {
		r.waiting[key] = true
	}
	return ok
}

func (r *routed) lockedRouted(key types.NamespacedName, ing *networkingv1.Ingress) bool {
	v, hs := routingVersion(ing), r.hosts[key]
	for _, h := range namedHosts(ing) {
		if !slices.Contains(hs, hostVersion{h, v}) {
			return false
		}
	}
	return true
}

// forget drops what is known of an Ingress that is gone.
func (r *routed) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.hosts, key)
	delete(r.waiting, key)
}

// quiet returns once the host reconciler has done nothing for quietFor,
// or has worked for maxDefer with pauses shorter than that (status writes
// then go until it is next quiet), or when ctx ends.
func (r *routed) quiet(ctx context.Context) {
	for {
		r.mu.Lock()
		wait := r.lockedWait(time.Now())
		r.mu.Unlock()
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// lockedWait is how long, at now, status writes must wait for the host
// reconciler (see quiet); 0 when they may go.
func (r *routed) lockedWait(now time.Time) time.Duration {
	left := r.maxDefer - now.Sub(r.busy)
	if r.active > 0 {
		return max(0, min(r.quietFor, left))
	}
	return max(0, min(r.quietFor-now.Sub(r.last), left))
}
