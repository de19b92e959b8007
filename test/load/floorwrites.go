package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/controller"
	"github.com/ingressguard/ingressguard/convert"
)

// floorRun is one run of the convergence floor: a plain API client writing
// generated objects as fast as the API server takes them.
type floorRun struct {
	// Objects is how many Gateways and VirtualServices were created,
	// Workers how many at a time.
	Objects, Workers int
	// Seconds is from the first create until the last was answered.
	Seconds float64
	// CPU is what each process used meanwhile.
	CPU cpuUse
}

// generated is convert's Gateways and VirtualServices, grouped by name:
// the objects that one host key's reconcile writes, one after the other.
func generated(r *convert.Result) map[string][]client.Object {
	out := map[string][]client.Object{}
	for _, g := range r.Gateways {
		out[g.Name] = append(out[g.Name], g)
	}
	for _, v := range r.VirtualServices {
		out[v.Name] = append(out[v.Name], v)
	}
	return out
}

// floorWrites is the convergence floor: it times writeCopies of the
// objects of want whose names are not in except, with the CPU each
// process used meanwhile, then deletes the copies.
func (b *bench) floorWrites(ctx context.Context, want, except map[string][]client.Object) (floorRun, error) {
	cpu := b.sampleCPU(ctx)
	r, err := b.writeCopies(ctx, want, except)
	r.CPU = cpu.until(time.Now())
	if err != nil {
		return r, err
	}
	return r, b.deleteCopies(ctx)
}

// writeCopies creates copies of the objects of want whose names are not
// in except, in floorNS, with as many workers as the host reconciler has
// (controller.DefaultWorkers), each creating one name's objects in turn,
// as a reconcile does, and returns once every create was answered. The
// reconcilers watch the gateway namespace only, so they never see the
// copies. The CPU is left to the caller.
func (b *bench) writeCopies(ctx context.Context, want, except map[string][]client.Object) (floorRun, error) {
	var keys []string
	for name := range want {
		if _, ok := except[name]; !ok {
			keys = append(keys, name)
		}
	}
	slices.Sort(keys)
	r := floorRun{Workers: controller.DefaultWorkers}
	next := make(chan []client.Object)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range r.Workers {
		wg.Go(func() {
			for objs := range next {
				for _, o := range objs {
					c := o.DeepCopyObject().(client.Object)
					c.SetNamespace(floorNS)
					c.SetResourceVersion("")
					c.SetUID("")
					if err := b.client.Create(ctx, c); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
					}
				}
			}
		})
	}
	t0 := time.Now()
	for _, k := range keys {
		r.Objects += len(want[k])
		select {
		case next <- want[k]:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	r.Seconds = time.Since(t0).Seconds()
	if firstErr != nil {
		return r, firstErr
	}
	return r, ctx.Err()
}

// deleteCopies deletes what writeCopies created.
func (b *bench) deleteCopies(ctx context.Context) error {
	for _, obj := range []client.Object{&istionet.Gateway{}, &istionet.VirtualService{}} {
		if err := b.client.DeleteAllOf(ctx, obj, client.InNamespace(floorNS)); err != nil {
			return err
		}
	}
	return nil
}

// together is the least the live convergence's work takes on this
// machine. With the reconcilers stopped, it creates the fixtures'
// Ingresses [from, to) through the webhooks, 8 at a time, as createAlone
// does, and at the same time writeCopies the objects of want whose names
// are not in except, as floorWrites does: the live run's writes, made by
// plain clients that watch nothing and wait for nothing. It runs after
// createAlone, on the same range, because the fixtures of an Ingress need
// the Secrets of the Ingresses before it. Seconds is from the first
// create until both are done; Objects counts the Ingresses and the
// copies, Workers both clients' workers. It deletes what it created.
func (b *bench) together(ctx context.Context, from, to int, want, except map[string][]client.Object) (floorRun, error) {
	pre, ings := fixtures(from, to)
	if err := createAll(ctx, b.client, 16, pre); err != nil {
		return floorRun{}, err
	}
	cpu := b.sampleCPU(ctx)
	t0 := time.Now()
	var created error
	var wg sync.WaitGroup
	wg.Go(func() { created = createAll(ctx, b.client, 8, ings) })
	w, err := b.writeCopies(ctx, want, except)
	wg.Wait()
	r := floorRun{Objects: len(ings) + w.Objects, Workers: 8 + w.Workers, Seconds: time.Since(t0).Seconds(), CPU: cpu.until(time.Now())}
	if err = errors.Join(created, err); err != nil {
		return r, err
	}
	return r, errors.Join(b.deleteCopies(ctx), deleteAll(ctx, b.client, 16, append(ings, pre...)))
}
