package main

import (
	"context"
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

// floorWrites is the convergence floor: it creates copies of the objects
// of want whose names are not in except, in floorNS, with as many workers
// as the host reconciler has (controller.DefaultWorkers), each creating
// one name's objects in turn, as a reconcile does; it times the creates,
// then deletes the copies. The reconcilers watch the gateway namespace
// only, so they never see them.
func (b *bench) floorWrites(ctx context.Context, want, except map[string][]client.Object) (floorRun, error) {
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
	cpu := b.sampleCPU(ctx)
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
	r.CPU = cpu.until(time.Now())
	if firstErr != nil {
		return r, firstErr
	}
	for _, obj := range []client.Object{&istionet.Gateway{}, &istionet.VirtualService{}} {
		if err := b.client.DeleteAllOf(ctx, obj, client.InNamespace(floorNS)); err != nil {
			return r, err
		}
	}
	return r, ctx.Err()
}
