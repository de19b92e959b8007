package main

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
)

// report is everything one run of the load program measured.
type report struct {
	Machine  machineInfo
	Settings map[string]any
	// Cluster is what the cluster held at the end.
	Cluster cluster
	// Direct holds the admission runs straight to the webhooks, at both
	// cluster sizes; Webhook is floor, validate or mutate.
	Direct []row
	// ThroughAPI holds the dry-run creates through the API server at the
	// large size; Webhook is none, floor or ingressguard.
	ThroughAPI []row
	Scale      []scale
	// PairedScale is the scale measurement repeated with both cluster
	// sizes alive at once, interleaved (see pairedScale).
	PairedScale []scale
	Convergence convergence
	// ResyncLarge is the resync of the large cluster.
	ResyncLarge resync
	Memory      memory
	// Hostile is the hostile-tenant run at the large size.
	Hostile hostileRun
	Targets []target
}

type machineInfo struct {
	CPUs     int
	CPUModel string
	// LoadBefore and LoadAfter are the 1, 5 and 15-minute load averages.
	LoadBefore, LoadAfter string
	Go                    string
}

type cluster struct {
	Ingresses, Hosts, Secrets, GatewaySecrets, Services, Namespaces int
}

// row is one kind of admission run: the medians of its runs and their
// ratios to the floor's at the same concurrency.
type row struct {
	N       int
	Webhook string
	Median  run
	VsFloor ratio
	Runs    []run
}

type ratio struct {
	PerSecond, P50, P90, P99, Max, CPUPerRequest float64
}

// scale compares p99 at the two cluster sizes.
type scale struct {
	Webhook     string
	Concurrency int
	SmallN      int
	LargeN      int
	SmallP99    float64
	LargeP99    float64
	Ratio       float64
	// FloorRatio is the same ratio for the floor, whose work does not
	// depend on N: how much the machine alone moved between the two
	// points (the API server and etcd grow on the same CPUs).
	FloorRatio float64 `json:",omitempty"`
}

type convergence struct {
	// Ingresses were created (two per host, Hosts hosts) into a cluster
	// that then held ClusterIngresses.
	Ingresses, Hosts, ClusterIngresses int
	// CreateSeconds is how long creating them took, 8 at a time, through
	// the webhooks.
	CreateSeconds float64
	// LiveSeconds is from the first create until the last change that made
	// every Gateway and VirtualService equal to convert's.
	LiveSeconds float64
	// ColdSeconds is the same from the start of a reconcilers' process that
	// found none of the generated objects.
	ColdSeconds float64
	// LiveCPU is the CPU time each process used from the first create to
	// the moment of LiveSeconds.
	LiveCPU cpuUse
	// CreateAlone is creating as many other Ingresses the same way with
	// the reconcilers stopped (see createAlone).
	CreateAlone floorRun
	// Together is creating as many other Ingresses again, with the
	// reconcilers stopped, while a plain client writes LiveFloor's
	// objects (see together): the live run's work without the
	// reconcilers, the least it takes on this machine.
	Together floorRun
	// LiveFloor is a plain API client writing the objects of the Hosts
	// new hosts, ColdFloor all the cluster's objects (see floorWrites).
	LiveFloor, ColdFloor floorRun
	// Resync restarts the reconcilers on the converged cluster.
	Resync resync
}

// VsBothFloors returns the live convergence time as a ratio to the plain
// writer's time plus the time of creating as many Ingresses alone.
func (c convergence) VsBothFloors() float64 {
	if both := c.LiveFloor.Seconds + c.CreateAlone.Seconds; both > 0 {
		return c.LiveSeconds / both
	}
	return 0
}

// VsTogether returns the live convergence time as a ratio to Together's,
// and Together's as a ratio to the plain writer's: how much of the
// writer's ratio the machine leaves to the reconcilers.
func (c convergence) VsTogether() (live, floor float64) {
	if c.Together.Seconds <= 0 || c.LiveFloor.Seconds <= 0 {
		return 0, 0
	}
	return c.LiveSeconds / c.Together.Seconds, c.Together.Seconds / c.LiveFloor.Seconds
}

// VsFloor returns the convergence times as ratios to their floors'.
func (c convergence) VsFloor() (live, cold float64) {
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	return div(c.LiveSeconds, c.LiveFloor.Seconds), div(c.ColdSeconds, c.ColdFloor.Seconds)
}

type resync struct {
	Ingresses, Hosts int
	// Seconds is from the process start until every Ingress and host key
	// was reconciled and nothing was queued.
	Seconds float64
	// Writes counts the create, update, patch and delete calls (status and
	// events included) the process made, from client-go's metrics; Reads
	// its other API calls (discovery, lists, watches and gets).
	Writes, Reads int
}

type memory struct {
	// FillSeconds is how long the growth to the large size took,
	// FillConvergedSeconds how long until it converged.
	FillSeconds, FillConvergedSeconds float64
	// Webhook and Controller are the two serve processes'.
	Webhook, Controller jobMemory
}

// jobMemory is the memory of one serve process.
type jobMemory struct {
	// PeakRSSFill is its VmHWM after the cluster grew to its large size
	// and converged, in bytes.
	PeakRSSFill int64
	// PeakRSS is the VmHWM of the process restarted on the large cluster,
	// after its resync and the admission runs (before the hostile tenant's,
	// whose peak is Hostile.PeakRSS); RSS its VmRSS then, and FileRSS the
	// part of RSS that is file-backed: the pages of the binary itself.
	PeakRSS, RSS, FileRSS int64
	// HeapLive is the Go heap after a collection, HeapInuse its spans,
	// GoSys all the memory the Go runtime holds.
	HeapLive, HeapInuse, GoSys uint64
}

type target struct {
	Name     string
	Measured string
	Met      bool
}

func (r *report) direct(n int, webhook string, c int) (row, bool) {
	for _, d := range r.Direct {
		if d.N == n && d.Webhook == webhook && d.Median.Concurrency == c {
			return d, true
		}
	}
	return row{}, false
}

// evaluate fills Scale and Targets. Ratios in Targets have three decimals,
// so that one that misses by a hair does not print as the limit.
func (r *report) evaluate() {
	small, large := r.Settings["small"].(int), r.Settings["n"].(int)
	for _, w := range []string{"validate", "mutate"} {
		for _, c := range r.Settings["concurrency"].([]int) {
			s, ok1 := r.direct(small, w, c)
			l, ok2 := r.direct(large, w, c)
			fs, ok3 := r.direct(small, "floor", c)
			fl, ok4 := r.direct(large, "floor", c)
			if ok1 && ok2 && ok3 && ok4 {
				r.Scale = append(r.Scale, scale{Webhook: w, Concurrency: c, SmallN: small, LargeN: large,
					SmallP99: s.Median.P99, LargeP99: l.Median.P99, Ratio: l.Median.P99 / s.Median.P99,
					FloorRatio: fl.Median.P99 / fs.Median.P99})
			}
		}
	}
	add := func(name string, met bool, format string, args ...any) {
		r.Targets = append(r.Targets, target{Name: name, Measured: fmt.Sprintf(format, args...), Met: met})
	}
	for _, w := range []string{"validate", "mutate"} {
		if d, ok := r.direct(large, w, 32); ok {
			add(fmt.Sprintf("direct %s throughput at c=32 >= 0.9x the floor's (N=%d)", w, large), d.VsFloor.PerSecond >= 0.9,
				"%.0f/s, %.3fx the floor's", d.Median.PerSecond, d.VsFloor.PerSecond)
		}
		if d, ok := r.direct(large, w, 4); ok {
			add(fmt.Sprintf("direct %s p99 at c=4 <= 1.2x the floor's (N=%d)", w, large), d.VsFloor.P99 <= 1.2,
				"%.2f ms, %.3fx the floor's", d.Median.P99, d.VsFloor.P99)
		}
	}
	for _, s := range r.Scale {
		if s.Concurrency == 4 {
			add(fmt.Sprintf("%s p99 at N=%d <= 1.25x p99 at N=%d (c=4), one after the other", s.Webhook, s.LargeN, s.SmallN), s.Ratio <= 1.25,
				"%.2f ms vs %.2f ms, %.3fx (the floor's: %.2fx)", s.LargeP99, s.SmallP99, s.Ratio, s.FloorRatio)
		}
	}
	for _, s := range r.PairedScale {
		add(fmt.Sprintf("%s p99 at N=%d <= 1.15x p99 at N=%d (c=4), paired", s.Webhook, s.LargeN, s.SmallN), s.Ratio <= 1.15,
			"%.2f ms vs %.2f ms, %.3fx", s.LargeP99, s.SmallP99, s.Ratio)
	}
	c := r.Convergence
	live, cold := c.VsFloor()
	vsTogether, togetherVsWriter := c.VsTogether()
	add(fmt.Sprintf("%d Ingresses converge within 1.5x the plain writer's time (created while the reconcilers run)", c.Ingresses), live > 0 && live <= 1.5,
		"%.1f s after the first create (creating took %.1f s), the writer %.1f s: %.3fx (the writer plus creating alone, %.1f s: %.2fx; creating and writing together, %.1f s: %.2fx, itself %.2fx the writer's)",
		c.LiveSeconds, c.CreateSeconds, c.LiveFloor.Seconds, live, c.LiveFloor.Seconds+c.CreateAlone.Seconds, c.VsBothFloors(), c.Together.Seconds, vsTogether, togetherVsWriter)
	add(fmt.Sprintf("%d Ingresses converge within 2x the plain writer's time (cold start)", c.ClusterIngresses), cold > 0 && cold <= 2,
		"%.1f s after the reconcilers started, the writer %.1f s: %.3fx", c.ColdSeconds, c.ColdFloor.Seconds, cold)
	add(fmt.Sprintf("resync of %d converged Ingresses makes 0 writes", c.Resync.Ingresses), c.Resync.Writes == 0, "%d writes", c.Resync.Writes)
	add(fmt.Sprintf("resync of %d converged Ingresses makes 0 writes", r.ResyncLarge.Ingresses), r.ResyncLarge.Writes == 0, "%d writes", r.ResyncLarge.Writes)
	hr := r.Hostile
	add("ordinary reviews' p99 < 50 ms under a hostile tenant (c=4), and the webhook process alive", hr.Attacked.P99 < 50 && hr.Alive,
		"%.2f ms (%.2f ms alone), alive %v, peak RSS %.0f MiB", hr.Attacked.P99, hr.Quiet.P99, hr.Alive, mib(hr.PeakRSS))
	for _, j := range []struct {
		name  string
		m     jobMemory
		limit int64
	}{{"the webhook process", r.Memory.Webhook, 64}, {"the reconcilers' process", r.Memory.Controller, 128}} {
		peak := max(j.m.PeakRSS, j.m.PeakRSSFill)
		add(fmt.Sprintf("%s's peak RSS with %d Ingresses and %d Secrets < %d MiB", j.name, r.Cluster.Ingresses, r.Cluster.Secrets, j.limit), peak < j.limit<<20,
			"%.0f MiB", mib(peak))
	}
}

func mib[T int64 | uint64](b T) float64 { return float64(b) / (1 << 20) }

// cell renders a figure with its ratio to the floor's.
func cell(format string, v, ratio float64) string {
	if ratio == 0 {
		return fmt.Sprintf(format, v)
	}
	return fmt.Sprintf(format+" (%.2fx)", v, ratio)
}

// print writes the report as one table.
func (r *report) print(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	m, cl := r.Machine, r.Cluster
	p("ingressguard load test: %d Ingresses on %d hosts, %d Secrets (%d in the gateway namespace), %d Services, %d namespaces",
		cl.Ingresses, cl.Hosts, cl.Secrets, cl.GatewaySecrets, cl.Services, cl.Namespaces)
	p("machine: %d CPUs, %s; load average %s before, %s after; %s", m.CPUs, m.CPUModel, m.LoadBefore, m.LoadAfter, m.Go)
	p("figures are medians of %v runs; (x) is the ratio to the floor webhook at the same concurrency", r.Settings["count"])
	p("")
	p("ADMISSION, straight to the webhook over HTTPS with keep-alive (%v reviews per run)", r.Settings["requests"])
	p("N\twebhook\tc\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tCPU us/req\t")
	for _, d := range r.Direct {
		x, v := d.Median, d.VsFloor
		p("%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t", d.N, d.Webhook, x.Concurrency,
			cell("%.0f", x.PerSecond, v.PerSecond), cell("%.2f", x.P50, v.P50), cell("%.2f", x.P90, v.P90),
			cell("%.2f", x.P99, v.P99), cell("%.1f", x.Max, v.Max), cell("%.0f", x.CPUPerRequest, v.CPUPerRequest))
	}
	p("")
	p("ADMISSION through the API server: dry-run creates via client-go (%v per run); webhooks called: none, the floor's, or ingressguard's", r.Settings["apiRequests"])
	p("N\twebhooks\tc\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\twebhook CPU us/req\tapiserver CPU us/req\t")
	for _, d := range r.ThroughAPI {
		x, v := d.Median, d.VsFloor
		p("%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", d.N, d.Webhook, x.Concurrency,
			cell("%.0f", x.PerSecond, v.PerSecond), cell("%.2f", x.P50, v.P50), cell("%.2f", x.P90, v.P90),
			cell("%.2f", x.P99, v.P99), cell("%.1f", x.Max, v.Max), cell("%.0f", x.CPUPerRequest, v.CPUPerRequest),
			fmt.Sprintf("%.0f", x.APIServerCPUPerRequest))
	}
	p("")
	p("SCALE: p99 of direct admission at N=%v and N=%v", r.Settings["small"], r.Settings["n"])
	p("webhook\tc\tp99 ms small\tp99 ms large\tratio\tthe floor's ratio\t")
	for _, s := range r.Scale {
		p("%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t", s.Webhook, s.Concurrency, s.SmallP99, s.LargeP99, s.Ratio, s.FloorRatio)
	}
	p("")
	p("SCALE, paired: a second cluster of %v Ingresses alive beside the large one, runs interleaved", r.Settings["small"])
	p("webhook\tc\tp99 ms small\tp99 ms large\tratio\t")
	for _, s := range r.PairedScale {
		p("%s\t%d\t%.2f\t%.2f\t%.2f\t", s.Webhook, s.Concurrency, s.SmallP99, s.LargeP99, s.Ratio)
	}
	p("")
	c := r.Convergence
	p("CONVERGENCE: %d Ingresses on %d hosts, into a cluster of %d", c.Ingresses, c.Hosts, c.ClusterIngresses)
	live, cold := c.VsFloor()
	vsTogether, togetherVsWriter := c.VsTogether()
	p("created while the reconcilers run\tcreated in %.1f s (8 at a time, through the webhooks); every Gateway and VirtualService equal to convert's %.1f s after the first create", c.CreateSeconds, c.LiveSeconds)
	p("  its floor\ta plain API client creates the same %d objects, %d at a time, in %.1f s: convergence took %.2fx", c.LiveFloor.Objects, c.LiveFloor.Workers, c.LiveFloor.Seconds, live)
	p("  CPU seconds\t%s, live; %s, its floor (%d CPUs)", c.LiveCPU, c.LiveFloor.CPU, runtime.NumCPU())
	p("  creating alone\tthe same number of other Ingresses, %d at a time through the webhooks, the reconcilers stopped: %.1f s; CPU seconds %s", c.CreateAlone.Workers, c.CreateAlone.Seconds, c.CreateAlone.CPU)
	p("  both floors\tthe writer's time plus creating alone, %.1f s: convergence took %.2fx", c.LiveFloor.Seconds+c.CreateAlone.Seconds, c.VsBothFloors())
	p("  together\tthe same number of other Ingresses created while the plain client writes the same objects, the reconcilers stopped: %.1f s (%.2fx the writer's); convergence took %.2fx; CPU seconds %s", c.Together.Seconds, togetherVsWriter, vsTogether, c.Together.CPU)
	p("cold start\tnone of the generated objects present; all equal to convert's %.1f s after the reconcilers started", c.ColdSeconds)
	p("  its floor\ta plain API client creates the same %d objects, %d at a time, in %.1f s: convergence took %.2fx", c.ColdFloor.Objects, c.ColdFloor.Workers, c.ColdFloor.Seconds, cold)
	p("resync of %d Ingresses\tfresh reconcilers on the converged cluster: %d Ingress and %d host keys reconciled %.1f s after start; %d write calls", c.Resync.Ingresses, c.Resync.Ingresses, c.Resync.Hosts, c.Resync.Seconds, c.Resync.Writes)
	rl := r.ResyncLarge
	p("resync of %d Ingresses\tfresh reconcilers on the converged cluster: %d Ingress and %d host keys reconciled %.1f s after start; %d write calls", rl.Ingresses, rl.Ingresses, rl.Hosts, rl.Seconds, rl.Writes)
	p("")
	mm := r.Memory
	p("MEMORY of the two serve processes (each its own; the load generator, the floor, kube-apiserver and etcd are others); the cluster grew to %d Ingresses in %.0f s, converged %.0f s after the first create", cl.Ingresses, mm.FillSeconds, mm.FillConvergedSeconds)
	p("process\tpeak RSS while growing\tpeak RSS after a restart on the large cluster, resync and the admission runs\tRSS now (of it, the binary's pages)\tGo heap after a collection: live, in use, from the OS\t")
	for _, j := range []struct {
		name string
		m    jobMemory
	}{{"webhook", mm.Webhook}, {"controller", mm.Controller}} {
		p("%s\t%.0f MiB\t%.0f MiB\t%.0f MiB (%.0f MiB)\t%.0f, %.0f, %.0f MiB\t", j.name, mib(j.m.PeakRSSFill), mib(j.m.PeakRSS), mib(j.m.RSS), mib(j.m.FileRSS), mib(j.m.HeapLive), mib(j.m.HeapInuse), mib(j.m.GoSys))
	}
	p("")
	hr := r.Hostile
	p("HOSTILE TENANT: ordinary reviews to validate, c=4, while %d connections send 7 MiB bodies at 1 KiB/s and 2 send 16,000-path dry-run reviews", hr.SlowBodies)
	p("alone\tp50 %.2f ms, p99 %.2f ms, %.0f reviews/s", hr.Quiet.P50, hr.Quiet.P99, hr.Quiet.PerSecond)
	p("attacked\tp50 %.2f ms, p99 %.2f ms (%.2fx), %.0f reviews/s", hr.Attacked.P50, hr.Attacked.P99, hr.Attacked.P99/hr.Quiet.P99, hr.Attacked.PerSecond)
	p("attackers\tslow bodies answered %d times (429, or cut off by the read deadline); 16,000-path reviews: %d answered, %d refused over the route limit, %d shed with 429", hr.SlowAnswered, hr.BigReviews, hr.BigRefused, hr.BigShed)
	p("webhook process\talive %v, peak RSS %.0f MiB", hr.Alive, mib(hr.PeakRSS))
	p("")
	p("TARGETS")
	for _, t := range r.Targets {
		verdict := "met"
		if !t.Met {
			verdict = "MISSED"
		}
		p("%s\t%s\t%s\t", t.Name, t.Measured, verdict)
	}
	return w.Flush()
}
