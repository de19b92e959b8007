package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/test/envtest"
	"github.com/ingressguard/ingressguard/webhook"
)

// The scale measurement compares admission at -small and at -n Ingresses.
// Measured one after the other, minutes apart, the two also compare two
// machines: the API server and etcd of the large cluster share the CPUs,
// and the floor's own p99, whose work does not depend on N, moved from
// 0.95x to 1.41x between the two points. So the large cluster's runs are
// repeated interleaved with runs against a second, small cluster (its own
// API server, -small Ingresses, its own webhook process), both alive at
// once: the same machine for both sizes.

// smallCluster is the second cluster of the paired scale measurement.
type smallCluster struct {
	env     *envtest.Env
	webhook *proc
	url     string
	direct  direct
}

// startSmall starts an API server with -small Ingresses and -small
// Secrets, and a webhook process for it, as the large cluster's.
func (b *bench) startSmall(ctx context.Context) (*smallCluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &smallCluster{url: fmt.Sprintf("https://127.0.0.1:%d", port)}
	mut, val := webhook.Configurations(webhook.ConfigOptions{Name: "ingressguard", Settings: convert.DefaultSettings(), URL: s.url})
	logf("starting a second, small cluster for the paired scale measurement")
	if s.env, err = envtest.Start(ctx, envtest.Options{WebhookInstallOptions: crenvtest.WebhookInstallOptions{
		MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{mut},
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{val},
		LocalServingHost:   "127.0.0.1",
		LocalServingPort:   port,
	}}); err != nil {
		return nil, err
	}
	wio := s.env.Environment.WebhookInstallOptions
	s.direct = direct{ca: wio.LocalServingCAData}
	if s.webhook, err = b.startJob(ctx, webhookJob, "webhook-small", s.env, port); err != nil {
		return s, err
	}
	c, err := client.New(s.env.Config, client.Options{Scheme: s.env.Scheme})
	if err != nil {
		return s, err
	}
	var objs []client.Object
	for _, ns := range namespaces() {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	if err := createAll(ctx, c, 8, objs); err != nil {
		return s, err
	}
	pre, ings := fixtures(0, b.o.small)
	if err := createAll(ctx, c, 8, pre); err != nil {
		return s, err
	}
	if err := createAll(ctx, c, 8, ings); err != nil {
		return s, err
	}
	return s, settled(ctx, s.webhook, 2*time.Second, 2*time.Minute)
}

func (s *smallCluster) stop() {
	if s.webhook != nil {
		_ = s.webhook.stop()
	}
	if s.env != nil {
		if err := s.env.Stop(); err != nil {
			logf("stopping the small cluster's API server: %v", err)
		}
	}
}

// pairedScale measures direct admission at c=4 against the small and the
// large cluster's webhook process, and the floor, interleaved: each repetition runs
// every target once, in turn.
func (b *bench) pairedScale(ctx context.Context) error {
	small, err := b.startSmall(ctx)
	defer small.stop()
	if err != nil {
		return err
	}
	const distinct, c = 64, 4
	type target struct {
		name, url string
		n         int
		bodies    [][]byte
		pid       int
		d         direct
	}
	var targets []target
	for _, n := range []int{b.o.small, b.o.n} {
		validate, err := reviewBodies(distinct, n/2, false)
		if err != nil {
			return err
		}
		mutate, err := reviewBodies(distinct, n/2, true)
		if err != nil {
			return err
		}
		url, pid, d := small.url, small.webhook.cmd.Process.Pid, small.direct
		if n == b.o.n {
			url, pid, d = fmt.Sprintf("https://127.0.0.1:%d", b.port), b.webhook.cmd.Process.Pid, b.direct
			targets = append(targets, target{"floor", b.floorAt + webhook.ValidatePath, n, validate, b.floor.cmd.Process.Pid, b.direct})
		}
		targets = append(targets,
			target{"validate", url + webhook.ValidatePath, n, validate, pid, d},
			target{"mutate", url + webhook.MutatePath, n, mutate, pid, d})
	}
	runs := map[string][]run{}
	for rep := range b.o.count {
		for _, t := range targets {
			logf("paired scale: N=%d direct %s c=%d run %d/%d", t.n, t.name, c, rep+1, b.o.count)
			r, err := t.d.measure(ctx, t.url, t.bodies, c, b.o.requests, t.pid)
			if err != nil {
				return fmt.Errorf("paired scale: N=%d %s: %w", t.n, t.name, err)
			}
			key := t.name + "/" + strconv.Itoa(t.n)
			runs[key] = append(runs[key], r)
		}
	}
	for _, w := range []string{"validate", "mutate"} {
		s, l := median(runs[w+"/"+strconv.Itoa(b.o.small)]), median(runs[w+"/"+strconv.Itoa(b.o.n)])
		b.rep.PairedScale = append(b.rep.PairedScale, scale{Webhook: w, Concurrency: c, SmallN: b.o.small, LargeN: b.o.n,
			SmallP99: s.P99, LargeP99: l.P99, Ratio: l.P99 / s.P99})
	}
	return nil
}
