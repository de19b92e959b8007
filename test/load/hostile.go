package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ingressguard/ingressguard/webhook"
)

// hostileRun is the hostile-tenant measurement: ordinary reviews straight
// to the validating webhook at c=4, first alone, then while attackers hit
// the same process with slow 7 MiB bodies and 16,000-path dry-run reviews.
type hostileRun struct {
	Quiet, Attacked run
	// SlowBodies is how many connections send 7 MiB bodies at 1 KiB/s at
	// any time; SlowAnswered how many answers they got (429s, and 400s for
	// the bodies cut off by the read deadline).
	SlowBodies, SlowAnswered int64
	// BigReviews is how many 16,000-path dry-run reviews were answered
	// during the attack, BigRefused how many of them were refused as over
	// the per-host route limit, BigShed how many got 429.
	BigReviews, BigRefused, BigShed int64
	// PeakRSS is the webhook process's peak RSS at the end; Alive whether
	// it still ran and answered an ordinary review.
	PeakRSS int64
	Alive   bool
}

const (
	slowBodies = 32
	bigPaths   = 16000
)

// hostile runs the hostile-tenant measurement against the webhook process.
func (b *bench) hostile(ctx context.Context, hosts int) error {
	bodies, err := reviewBodies(64, hosts, false)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d%s", b.port, webhook.ValidatePath)
	pid := b.webhook.cmd.Process.Pid
	h := &b.rep.Hostile
	logf("hostile tenant: ordinary reviews alone")
	if h.Quiet, err = b.direct.measure(ctx, url, bodies, 4, b.o.requests/3, pid); err != nil {
		return err
	}
	big, err := bigReview(hosts)
	if err != nil {
		return err
	}
	attack, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	h.SlowBodies = slowBodies
	for range slowBodies {
		wg.Go(func() { b.slowBody(attack, &h.SlowAnswered) })
	}
	hc, err := b.direct.client(2)
	if err != nil {
		stop()
		return err
	}
	for range 2 {
		wg.Go(func() {
			for attack.Err() == nil {
				req, _ := http.NewRequestWithContext(attack, http.MethodPost, url, bytes.NewReader(big))
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusTooManyRequests:
					atomic.AddInt64(&h.BigShed, 1)
					time.Sleep(50 * time.Millisecond)
				case bytes.Contains(body, []byte(`"code":422`)) && bytes.Contains(body, []byte("over the limit")):
					atomic.AddInt64(&h.BigRefused, 1)
				}
				atomic.AddInt64(&h.BigReviews, 1)
			}
		})
	}
	time.Sleep(2 * time.Second) // the attack under way
	logf("hostile tenant: ordinary reviews while %d slow 7 MiB bodies and 16,000-path reviews hit serve", slowBodies)
	h.Attacked, err = b.direct.measure(ctx, url, bodies, 4, b.o.requests/3, pid)
	stop()
	wg.Wait()
	hc.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("ordinary reviews during the attack: %w", err)
	}
	if h.PeakRSS, _, err = b.webhook.memory(); err != nil {
		return err
	}
	_, err = b.direct.measure(ctx, url, bodies, 1, 1, pid)
	h.Alive = err == nil && b.webhook.cmd.ProcessState == nil
	return nil
}

// slowBody keeps one connection sending a 7 MiB body at 1 KiB/s, and opens
// another whenever serve answers it (a 429, or a 400 when the read
// deadline cuts it off).
func (b *bench) slowBody(ctx context.Context, answered *int64) {
	for ctx.Err() == nil {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b.port), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // an attacker does not check
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", webhook.ValidatePath, webhook.MaxRequestBytes)
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 512)
			if _, err := conn.Read(buf); err == nil {
				atomic.AddInt64(answered, 1)
			}
		}()
		chunk := bytes.Repeat([]byte(" "), 1024)
	trickle:
		for {
			select {
			case <-ctx.Done():
				break trickle
			case <-done:
				break trickle
			case <-time.After(time.Second):
				if _, err := conn.Write(chunk); err != nil {
					break trickle
				}
			}
		}
		conn.Close()
		<-done
		if ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// bigReview is a dry-run review of an Ingress with bigPaths paths on one
// host: far over the per-host route limit.
func bigReview(hosts int) ([]byte, error) {
	ing := reviewed(0, hosts, "ingressguard", false)
	be := backend("big", 8080, "")
	paths := make([]networkingv1.HTTPIngressPath, bigPaths)
	for i := range paths {
		paths[i] = path(fmt.Sprintf("/big/%d", i), networkingv1.PathTypeExact, be)
	}
	ing.Spec.Rules[0].HTTP.Paths = paths
	obj, err := json.Marshal(ing)
	if err != nil {
		return nil, err
	}
	dry := true
	return json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "big",
			Kind:      metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
			Resource:  metav1.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
			Name:      ing.Name,
			Namespace: ing.Namespace,
			Operation: admissionv1.Create,
			DryRun:    &dry,
			Object:    runtime.RawExtension{Raw: obj},
		},
	})
}
